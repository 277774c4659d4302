import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Farm } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { openSqlite } from './open-database.ts';
import type { Database } from './schema.ts';
import { Store } from './store.ts';

const LEASE_MS = 30_000;

describe('Store claims', () => {
  let dir: string;
  let db: Kysely<Database>;
  let store: Store;
  let farm: Farm;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-store-'));
    db = await openSqlite(join(dir, 'switchyard.db'));
    store = new Store(db, { onEvents() {}, onNewWork() {}, onCancelled() {} });
    farm = parseConfig(
      'farm.yml',
      `repos: [{ name: demo, url: /x }]
builders:
  - { name: gpu, repo: demo, pool: linux, tags: { gpu: "yes" }, steps: [{ name: s, run: "true" }] }
  - { name: plain, repo: demo, pool: linux, steps: [{ name: s, run: "true" }] }
`,
    );
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const pushes = async (count: number) => {
    for (let i = 0; i < count; i++) await store.createPush(farm, { repo: 'demo', branch: 'main', revision: 'abcdef0' });
  };

  it('finds a job the worker can run behind more than a page of jobs it cannot', async () => {
    // Each push makes a gpu job and a plain one; with the plain ones of the first 599 pushes
    // gone, 600 gpu jobs stand in the queue before the last plain job.
    await pushes(600);
    await db
      .updateTable('jobs')
      .set({ state: 'cancelled' })
      .where('builder', '=', 'plain')
      .where('push_id', '<', 600)
      .execute();
    const assignment = await store.claim('w1', { pool: 'linux', tags: {}, instance: 'a' }, LEASE_MS, 10);
    expect(assignment?.job).toMatchObject({ builder: 'plain', pushId: 600 });
  });

  it('requeues an assignment its worker never received, without using up an attempt', async () => {
    await pushes(1);
    const worker = { pool: 'linux', tags: { gpu: 'yes' }, instance: 'process-1' };
    const lost = await store.claim('w1', worker, LEASE_MS, 10);
    expect(lost?.attemptNumber).toBe(1);
    // The same process asks again: it never got attempt 1.
    const again = await store.claim('w1', worker, LEASE_MS, 10);
    expect(again).toMatchObject({ attemptNumber: 1, job: { id: lost?.job.id } });
    const attempts = await db.selectFrom('attempts').select(['id', 'number']).execute();
    expect(attempts).toEqual([{ id: again?.attemptId, number: 1 }]);
  });

  it('refuses a second worker process under a name whose lease is live', async () => {
    await pushes(1);
    await store.claim('w1', { pool: 'linux', tags: { gpu: 'yes' }, instance: 'process-1' }, LEASE_MS, 10);
    await expect(
      store.claim('w1', { pool: 'linux', tags: {}, instance: 'process-2' }, LEASE_MS, 10),
    ).rejects.toMatchObject({
      status: 409,
      code: 'name-in-use',
    });
    const running = await db.selectFrom('attempts').select('state').execute();
    expect(running).toEqual([{ state: 'running' }]);
  });
});
