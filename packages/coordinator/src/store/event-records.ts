import type { Kysely } from 'kysely';
import type { EventRecord, EventStore, SingletonFence } from './port.ts';
import { requireFence } from './replica-records.ts';
import type { Database } from './schema.ts';
import type { Store } from './store.ts';

/** The events table as readers and publishers see it, and the cursors publishers keep in it. */
export class EventRecords implements EventStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: Store,
  ) {}

  async readAfter(afterId: number, limit: number): Promise<EventRecord[]> {
    return this.db.selectFrom('events').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
  }

  async get(id: number): Promise<EventRecord | undefined> {
    return this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async lastId(): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max<number | null>('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  recordConfigReload(builders: number, repos: number): Promise<void> {
    return this.store.write((ctx) => ctx.emit('config.reloaded', { builders, repos }));
  }

  async publisherCursor(name: string, start: number): Promise<number> {
    await this.db
      .insertInto('outbox_cursors')
      .values({ name, last_event_id: start })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('outbox_cursors')
      .select('last_event_id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return Number(row.last_event_id);
  }

  async advancePublisherCursor(name: string, lastEventId: number, fence?: SingletonFence): Promise<void> {
    await this.store.write(async (ctx) => {
      if (fence) await requireFence(ctx, fence);
      await ctx.trx
        .updateTable('outbox_cursors')
        .set({ last_event_id: lastEventId })
        .where('name', '=', name)
        .where('last_event_id', '<', lastEventId)
        .execute();
    });
  }
}
