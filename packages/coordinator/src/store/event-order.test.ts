import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedDatabase, openDatabase } from './open-database.ts';
import type { Database } from './schema.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';
import { WriteContext } from './write-context.ts';

/** What a reader tailing the events table sees: everything after the last id it read. */
class Tailer {
  last = 0;
  readonly seen: number[] = [];

  constructor(private readonly db: Kysely<Database>) {}

  async poll(): Promise<number[]> {
    const rows = await this.db.selectFrom('events').select('id').where('id', '>', this.last).orderBy('id').execute();
    const ids = rows.map((row) => row.id);
    this.seen.push(...ids);
    this.last = ids.at(-1) ?? this.last;
    return ids;
  }

  /** Starts after what is already there. */
  async skipToEnd(): Promise<void> {
    await this.poll();
    this.seen.length = 0;
  }
}

async function emitOne(db: Kysely<Database>, builders: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const ctx = new WriteContext(trx, Date.now(), 1);
    await ctx.emit('config.reloaded', { builders, repos: 1 });
    await ctx.flushEvents();
  });
}

/** Resolves once some session waits for an advisory lock (the second writer, queued behind the first). */
async function someoneWaitsForAdvisoryLock(db: Kysely<Database>): Promise<void> {
  for (;;) {
    const { rows } = await sql<{ waiting: number }>`
      select count(*) as waiting from pg_locks where locktype = 'advisory' and not granted`.execute(db);
    if ((rows[0]?.waiting ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('event ids on PostgreSQL are handed out in commit order', () => {
  let schema: TestSchema;
  let opened: OpenedDatabase;

  beforeAll(async () => {
    schema = await createTestSchema();
    opened = await openDatabase(schema.url, { poolSize: 4 });
  });

  afterAll(async () => {
    await opened?.db.destroy();
    await schema?.drop();
  });

  it('without ordering, a tailer skips an id that commits after a larger one (the hazard)', async () => {
    const { db } = opened;
    const tailer = new Tailer(db);
    await tailer.skipToEnd();
    const early = await db.startTransaction().execute();
    const first = await early
      .insertInto('events')
      .values({ type: 'config.reloaded', created_at: 0, data: '{}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const second = await db
      .insertInto('events')
      .values({ type: 'config.reloaded', created_at: 0, data: '{}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(await tailer.poll()).toEqual([second.id]);
    await early.commit().execute();
    expect(await tailer.poll()).toEqual([]);
    expect(first.id).toBeLessThan(second.id);
    await db.deleteFrom('events').execute();
  });

  it('a writer holding its transaction open after an event keeps a later writer from passing it', async () => {
    const { db } = opened;
    const tailer = new Tailer(db);
    await tailer.skipToEnd();
    const held = await db.startTransaction().execute();
    const heldContext = new WriteContext(held, Date.now(), 1);
    await heldContext.emit('config.reloaded', { builders: 1, repos: 1 });
    await heldContext.flushEvents();
    const later = emitOne(db, 2);
    await someoneWaitsForAdvisoryLock(db);
    expect(await tailer.poll()).toEqual([]);
    await held.commit().execute();
    await later;
    const ids = await tailer.poll();
    expect(ids).toHaveLength(2);
    const rows = await db.selectFrom('events').select(['id', 'data']).where('id', 'in', ids).orderBy('id').execute();
    expect(rows.map((row) => JSON.parse(row.data).builders)).toEqual([1, 2]);
  });

  it('many concurrent writers: a tailer polling throughout sees every id', async () => {
    const { db } = opened;
    const tailer = new Tailer(db);
    await tailer.skipToEnd();
    let writing = true;
    const tailing = (async () => {
      while (writing) await tailer.poll();
    })();
    const writers = Array.from({ length: 6 }, async (_, writer) => {
      for (let i = 0; i < 20; i++) {
        await db.transaction().execute(async (trx) => {
          const ctx = new WriteContext(trx, Date.now(), 1);
          await ctx.emit('config.reloaded', { builders: writer, repos: i });
          await ctx.emit('config.reloaded', { builders: writer, repos: i });
          await ctx.flushEvents();
        });
      }
    });
    await Promise.all(writers);
    writing = false;
    await tailing;
    await tailer.poll();
    const all = await db
      .selectFrom('events')
      .select('id')
      .where('id', '>=', tailer.seen[0] as number)
      .orderBy('id')
      .execute();
    expect(tailer.seen).toHaveLength(240);
    expect(tailer.seen).toEqual(all.map((row) => row.id));
  });
});
