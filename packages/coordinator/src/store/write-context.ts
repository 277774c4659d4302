import type { EventDataMap, EventType, SwitchyardEvent } from '@switchyard/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** The columns an event can be filtered on, stored beside its JSON. */
export interface EventDimensions {
  repo?: string | null;
  branch?: string | null;
  builder?: string | null;
  jobId?: number | null;
  pushId?: number | null;
}

/** An event with the columns it is filtered on. */
export interface CommittedEvent {
  event: SwitchyardEvent;
  dims: EventDimensions;
}

/**
 * One write transaction: the state changes and the events announcing them commit together
 * (the outbox). What must happen after the commit — waking claimers, telling a worker its job
 * was cancelled — is collected here and run only once the commit succeeded.
 */
export class WriteContext {
  readonly events: CommittedEvent[] = [];
  readonly poolsWithNewWork = new Set<string>();
  readonly cancelledAttempts = new Set<number>();

  constructor(
    readonly trx: Transaction<Database> | Kysely<Database>,
    readonly now: number,
  ) {}

  async emit<T extends EventType>(type: T, data: EventDataMap[T], dims: EventDimensions = {}): Promise<void> {
    const row = await this.trx
      .insertInto('events')
      .values({
        type,
        created_at: this.now,
        repo: dims.repo ?? null,
        branch: dims.branch ?? null,
        builder: dims.builder ?? null,
        job_id: dims.jobId ?? null,
        push_id: dims.pushId ?? null,
        data: JSON.stringify(data),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const event = { id: row.id, type, time: new Date(this.now).toISOString(), data } as SwitchyardEvent;
    this.events.push({ event, dims });
  }
}
