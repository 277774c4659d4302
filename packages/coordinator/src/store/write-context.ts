import {
  type EventAttributes,
  type EventDataMap,
  type EventType,
  eventAttributes,
  routingKeyOf,
  type SwitchyardEvent,
} from '@switchyard/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { CommittedWrite, InsertNotice } from './commit-signal.ts';
import { insertEvents } from './dialect.ts';
import { type JobFinishedFacts, jobFinishedData } from './job-finished-data.ts';
import type { AttemptRow, JobRow, PushRow, WorkerRow } from './mappers.ts';
import { commitAlone } from './pipelined-transaction.ts';
import type { EventRecord } from './port.ts';
import type { Database } from './schema.ts';

/** The columns an event can be filtered on, stored beside its JSON. */
/** A worker's row, with the recent durations of the builder of the attempt it may end (on PostgreSQL, for a success). */
export type AttemptWorkerRow = WorkerRow & { recent_durations?: number[] };

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
  attributes: EventAttributes;
}

/** What an emitter passes; the outbox adds the facts it can look up itself. */
export type EmitData<T extends EventType> = T extends 'job.finished'
  ? Omit<EventDataMap[T], keyof JobFinishedFacts>
  : EventDataMap[T];

/**
 * One write transaction: the state changes and the events announcing them commit together
 * (the outbox). What must happen after the commit — waking claimers, telling a worker its job
 * was cancelled — follows from those events through the change feed, in every process.
 */
export class WriteContext {
  /** Every event of the transaction, in emission order; ids are set once inserted (flushEvents). */
  readonly events: CommittedEvent[] = [];
  /**
   * The inserted rows of those events, as a reader of the events table gets them, in id order:
   * after the commit they go to this process's change feed, which then needs no read for them.
   */
  readonly rows: EventRecord[] = [];
  private readonly unflushed: Array<{ committed: CommittedEvent; row: Omit<EventRecord, 'id'> }> = [];
  /** Whether this transaction holds the event-order lock (see insertEvents). */
  private eventOrderHeld = false;
  /** The attempts whose log chunks this transaction stored. */
  private readonly grownLogs = new Set<number>();
  /** Of those, the ones an event insert's notice named. */
  private readonly announcedLogs = new Set<number>();
  /** Whether every event insert carried a notice, announcing the events to the other coordinators. */
  private eventsAnnounced = true;
  private nowMs: number | null;
  /**
   * Attempt and job rows as this transaction last read or wrote them, by id, so that a verb
   * applying several reports (a batched report: step started, log, step finished, attempt
   * finished) reads its attempt and job once rather than once per report: every statement is a
   * round trip on PostgreSQL. An attempt is read locked (requireAttempt) and SQLite has one writer,
   * so no other transaction changes them meanwhile; every write of these tables in a transaction
   * stores the row it returned here, or forgets it (transitions.ts, store.ts, worker-reports.ts).
   */
  readonly attempts = new Map<number, AttemptRow>();
  readonly jobs = new Map<number, JobRow>();
  /** The ids of every job of a push, once this transaction read them all (their rows are in `jobs`). */
  readonly pushJobs = new Map<number, number[]>();
  /** Push rows read along with their jobs (jobsOfPush on PostgreSQL); a push row never changes. */
  readonly pushes = new Map<number, PushRow>();
  /**
   * The rows of the workers of attempts this transaction may end, read locked with the attempt
   * (requireAttempt, on PostgreSQL), by attempt id: the attempt's end writes its worker's row
   * once, from what it was (transitions.ts, closeAttempt), and takes its entry.
   */
  readonly attemptWorkers = new Map<number, AttemptWorkerRow>();
  /** Jobs this transaction made final and found without artifacts: their `job.finished` needs no look-up. */
  readonly withoutArtifacts = new Set<number>();

  constructor(
    readonly trx: Transaction<Database> | Kysely<Database>,
    /** The transaction's time, or null when its first statement reads it from the database (`setNow`). */
    now: number | null,
    /** What one priority level is worth in queue rank (see scheduler/queue-order.ts). */
    readonly priorityLevelMs: number,
    /** On PostgreSQL, what an event insert notifies, given the logs grown so far (null: nothing). */
    private readonly insertNotice: ((grownLogs: readonly number[]) => InsertNotice) | null = null,
  ) {
    this.nowMs = now;
  }

  /**
   * The transaction's time, epoch ms: one reading for all its rows, leases and events. On
   * PostgreSQL it is the database's clock, so that the leases every replica writes and checks are
   * measured by one clock (store/database-time.ts).
   */
  get now(): number {
    if (this.nowMs === null) throw new Error('the transaction read its time before its first statement took it');
    return this.nowMs;
  }

  /** Whether the transaction's time is still to be taken from the database. */
  get awaitingNow(): boolean {
    return this.nowMs === null;
  }

  /** The database's time, read by the transaction's first statement; later readings are ignored. */
  setNow(ms: number): void {
    this.nowMs ??= ms;
  }

  /** Log chunks of the attempt were stored: its followers are woken once the transaction commits. */
  logGrew(attemptId: number): void {
    this.grownLogs.add(attemptId);
  }

  /** What the transaction committed, for the commit signal; null when there is nothing to tell. */
  committedWrite(): CommittedWrite | null {
    if (this.rows.length === 0 && this.grownLogs.size === 0) return null;
    return {
      events: this.rows,
      grownLogs: [...this.grownLogs],
      announced: { events: this.eventsAnnounced, logs: this.announcedLogs },
    };
  }

  /** Adds an event to the outbox; it is inserted, and gets its id, at flushEvents. */
  async emit<T extends EventType>(type: T, given: EmitData<T>, dims: EventDimensions = {}): Promise<void> {
    const data = (
      type === 'job.finished' ? await jobFinishedData(this, given as EmitData<'job.finished'>) : given
    ) as EventDataMap[T];
    const attributes = eventAttributes(type, data);
    const time = new Date(this.now).toISOString();
    const event = { id: 0, type, time, routingKey: routingKeyOf(type, attributes), data } as SwitchyardEvent;
    const committed = { event, dims, attributes };
    this.events.push(committed);
    this.unflushed.push({
      committed,
      row: {
        type,
        created_at: this.now,
        repo: dims.repo ?? null,
        branch: dims.branch ?? null,
        builder: dims.builder ?? null,
        job_id: dims.jobId ?? null,
        push_id: dims.pushId ?? null,
        data: JSON.stringify(data),
      },
    });
  }

  /**
   * Inserts the events emitted since the last flush, in one statement, and gives them their ids.
   * The transaction's owner calls it last, just before the commit; a verb that needs an id it
   * emitted calls it first.
   */
  async flushEvents(): Promise<void> {
    await this.insertUnflushed(false);
  }

  /**
   * Ends a PostgreSQL transaction that the store began on its connection (Store.write): the
   * events not yet inserted go out with the COMMIT right behind them (insertEvents' `thenCommit`).
   */
  async commitOnPostgres(): Promise<void> {
    if (this.unflushed.length > 0) {
      await this.insertUnflushed(true);
      return;
    }
    await commitAlone(this.trx);
  }

  private async insertUnflushed(thenCommit: boolean): Promise<void> {
    if (this.unflushed.length === 0) return;
    const batch = this.unflushed.splice(0);
    const notice = this.insertNotice?.([...this.grownLogs]) ?? null;
    const ids = await insertEvents(
      this.trx,
      batch.map(({ row }) => row),
      this.eventOrderHeld,
      notice,
      thenCommit,
    );
    this.eventOrderHeld = true;
    if (notice) for (const id of notice.logIds) this.announcedLogs.add(id);
    else this.eventsAnnounced = false;
    batch.forEach(({ committed, row }, index) => {
      const id = ids[index] as number;
      committed.event.id = id;
      this.rows.push({ id, ...row });
    });
  }
}
