import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Farm } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { LocalCommits } from './commit-signal.ts';
import { diskFullOf, StoreError } from './errors.ts';
import { openDatabase, openSqlite } from './open-database.ts';
import type { Database } from './schema.ts';
import { Store } from './store.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';

const farm: Farm = parseConfig(
  'farm.yml',
  `repos: [{ name: demo, url: /x }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: s, run: "true" }] }
`,
);

describe('a full disk under SQLite', () => {
  let dir: string;
  let db: Kysely<Database>;
  let store: Store;
  let told: StoreError[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-disk-full-'));
    told = [];
    db = await openSqlite(join(dir, 'switchyard.db'), (error) => told.push(error));
    store = new Store(db, new LocalCommits(), () => farm.scheduling.agingMs);
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** SQLite answers SQLITE_FULL past max_page_count, as it does when the disk is full. */
  const capPages = async (extra: number) => {
    const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(db);
    await sql.raw(`pragma max_page_count = ${(rows[0]?.page_count ?? 0) + extra}`).execute(db);
  };

  const push = (n: number) =>
    store.createPush(farm, { repo: 'demo', branch: 'main', revision: `abc${n}`, message: 'x'.repeat(4000) });

  it('keeps the error that ended a transaction SQLite rolled back by itself, not the needless rollback', async () => {
    await capPages(2);
    // One row too large for the pages left: SQLite ends the whole transaction on its SQLITE_FULL.
    const refusal = await store
      .write((ctx) =>
        ctx.trx
          .insertInto('pushes')
          .values({
            repo: 'demo',
            repo_url: '/x',
            branch: 'main',
            revision: 'abc',
            author: '',
            message: 'x'.repeat(64 * 1024),
            files: '[]',
            created_at: ctx.now,
          })
          .execute(),
      )
      .catch((error: unknown) => error);

    expect(refusal).toBeInstanceOf(StoreError);
    expect(refusal).toMatchObject({ kind: 'disk-full', details: { source: 'sqlite' } });
    expect(told).toHaveLength(1);
  });

  it('refuses a verb with the store error disk-full, and writes again once there is room', async () => {
    await push(0);
    await capPages(2);
    let refusal: unknown;
    for (let n = 1; n < 50 && refusal === undefined; n++) await push(n).catch((error: unknown) => (refusal = error));

    expect(refusal).toBeInstanceOf(StoreError);
    expect(refusal).toMatchObject({ kind: 'disk-full', details: { source: 'sqlite' } });
    expect((refusal as StoreError).message).toContain('the data directory is full');
    expect(((refusal as StoreError).cause as { code?: string }).code).toBe('SQLITE_FULL');
    expect(told.map((error) => error.kind)).toContain('disk-full');

    // Nothing is left half-done, and the store writes again once there is room.
    await capPages(1000);
    const after = await push(100);
    expect(after.jobs).toHaveLength(1);
  });
});

describe('a full disk under PostgreSQL', () => {
  let schema: TestSchema;
  let db: Kysely<Database>;

  beforeAll(async () => {
    schema = await createTestSchema();
  });

  afterAll(async () => {
    await db?.destroy();
    await schema.drop();
  });

  it('refuses a verb with the store error disk-full for SQLSTATE 53100, and writes again once there is room', async () => {
    const told: StoreError[] = [];
    ({ db } = await openDatabase(schema.url, { poolSize: 2, onDiskFull: (error) => told.push(error) }));
    const store = new Store(db, new LocalCommits(), () => farm.scheduling.agingMs);
    // What PostgreSQL says when it cannot extend a file.
    await sql`create function disk_is_full() returns trigger language plpgsql as $$
      begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$`.execute(
      db,
    );
    await sql`create trigger full_disk before insert on pushes for each row execute function disk_is_full()`.execute(
      db,
    );

    const refusal = await store
      .createPush(farm, { repo: 'demo', branch: 'main', revision: 'abc1' })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreError);
    expect(refusal).toMatchObject({ kind: 'disk-full', details: { source: 'postgresql' } });
    expect(told).toHaveLength(1);

    await sql`drop trigger full_disk on pushes`.execute(db);
    // Each of the pool's connections is still good.
    for (let n = 2; n < 6; n++) {
      expect((await store.createPush(farm, { repo: 'demo', branch: 'main', revision: `abc${n}` })).jobs).toHaveLength(
        1,
      );
    }
  });
});

describe('diskFullOf', () => {
  it('knows PostgreSQL disk_full and a file system out of space or quota, and nothing else', () => {
    expect(diskFullOf(Object.assign(new Error('could not extend file'), { code: '53100' }))).toMatchObject({
      kind: 'disk-full',
      details: { source: 'postgresql' },
    });
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      path: '/data/logs/1/0.log',
    });
    expect(diskFullOf(enospc)?.message).toContain('the data directory is full (writing /data/logs/1/0.log)');
    expect(diskFullOf(Object.assign(new Error('quota'), { code: 'EDQUOT' }))?.kind).toBe('disk-full');

    expect(diskFullOf(Object.assign(new Error('locked'), { code: 'SQLITE_BUSY' }))).toBeNull();
    expect(diskFullOf(new Error('plain'))).toBeNull();
    expect(diskFullOf(null)).toBeNull();
  });
});
