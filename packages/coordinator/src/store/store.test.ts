import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClaimRequest } from '@switchyard/protocol';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Farm } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { schedulingPolicy } from '../scheduler/live-policy.ts';
import { LocalCommits } from './commit-signal.ts';
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
    store = new Store(db, new LocalCommits(), () => farm.scheduling.agingMs);
    farm = parseConfig(
      'farm.yml',
      `repos: [{ name: demo, url: /x }]
builders:
  - { name: gpu, repo: demo, pool: linux, tags: { gpu: "yes" }, steps: [{ name: s, run: "true" }] }
  - { name: plain, repo: demo, pool: linux, steps: [{ name: s, run: "true" }] }
  - { name: talos, repo: demo, pool: perf, coalesce: latest, coalesce_limit: 4, steps: [{ name: s, run: "true" }] }
`,
    );
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const pushes = async (count: number, exact = false) => {
    for (let i = 0; i < count; i++) {
      await store.createPush(farm, { repo: 'demo', branch: 'main', revision: `abcdef${i}`, exact });
    }
  };

  const claim = async (name: string, request: ClaimRequest) => {
    await store.checkIn(name, request, null);
    const assigned = await store.assignWork(request.pool, [{ name, idleSince: 0 }], schedulingPolicy(farm), {
      leaseMs: LEASE_MS,
      heartbeatSeconds: 10,
    });
    return assigned.get(name) ?? null;
  };

  const talosJobs = () =>
    db
      .selectFrom('jobs')
      .select(['id', 'state', 'coalesced_into'])
      .where('builder', '=', 'talos')
      .orderBy('id')
      .execute();

  it('runs the newest of a coalescing builder and folds up to limit − 1 older jobs into it', async () => {
    await pushes(6);
    const assignment = await claim('p1', { pool: 'perf', instance: 'a' });
    const jobs = await talosJobs();
    const newest = jobs.at(-1)?.id;
    expect(assignment?.job.id).toBe(newest);
    expect(jobs.map((j) => [j.state, j.coalesced_into])).toEqual([
      ['pending', null],
      ['pending', null],
      ['coalesced', newest],
      ['coalesced', newest],
      ['coalesced', newest],
      ['running', null],
    ]);
  });

  it('benches a worker whose attempts end in exception, and learns the speed of one that succeeds', async () => {
    await pushes(2);
    const first = await claim('w1', { pool: 'linux', tags: { gpu: 'yes' }, instance: 'a' });
    const finishedAt = new Date().toISOString();
    await store.attemptFinished(first?.attemptId as number, {
      result: 'exception',
      reason: 'worker-error',
      finishedAt,
    });
    const benched = await db.selectFrom('workers').selectAll().where('name', '=', 'w1').executeTakeFirstOrThrow();
    expect(benched.exception_streak).toBe(1);
    expect((benched.benched_until as number) - Date.now()).toBeGreaterThan(5_000);
    // Work is pending (the retry among it), but a benched worker gets none of it.
    expect(await claim('w1', { pool: 'linux', tags: { gpu: 'yes' }, instance: 'a' })).toBeNull();
    const other = await claim('w2', { pool: 'linux', tags: { gpu: 'yes' }, instance: 'b' });
    expect(other?.job.id).toBe(first?.job.id);
    // A second later: a run of 0 ms (claim and report in one millisecond) teaches no speed.
    const later = new Date(Date.now() + 1000).toISOString();
    await store.attemptFinished(other?.attemptId as number, { result: 'success', finishedAt: later });
    const healthy = await db.selectFrom('workers').selectAll().where('name', '=', 'w2').executeTakeFirstOrThrow();
    expect(healthy).toMatchObject({ exception_streak: 0, benched_until: null, speed: 1 });
  });

  it('runs the newest of its builder and branch even when it stands beyond the page of the queue read', async () => {
    await pushes(120);
    const assignment = await claim('p1', { pool: 'perf', instance: 'a' });
    const jobs = await talosJobs();
    expect(assignment?.job.id).toBe(jobs.at(-1)?.id);
    expect(jobs.filter((j) => j.state === 'coalesced')).toHaveLength(3);
    expect(jobs.slice(-4, -1).every((j) => j.state === 'coalesced')).toBe(true);
  });

  it('never coalesces jobs pushed with exact: true', async () => {
    await pushes(3, true);
    const assignment = await claim('p1', { pool: 'perf', instance: 'a' });
    const jobs = await talosJobs();
    expect(assignment?.job.id).toBe(jobs[0]?.id);
    expect(jobs.map((j) => j.state)).toEqual(['running', 'pending', 'pending']);
  });

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
    const assignment = await claim('w1', { pool: 'linux', tags: {}, instance: 'a' });
    expect(assignment?.job).toMatchObject({ builder: 'plain', pushId: 600 });
  });

  it('requeues an assignment its worker never received, without using up an attempt', async () => {
    await pushes(1);
    const worker = { pool: 'linux', tags: { gpu: 'yes' }, instance: 'process-1' };
    const lost = await claim('w1', worker);
    expect(lost?.attemptNumber).toBe(1);
    // The same process asks again: it never got attempt 1.
    const again = await claim('w1', worker);
    expect(again).toMatchObject({ attemptNumber: 1, job: { id: lost?.job.id } });
    const attempts = await db.selectFrom('attempts').select(['id', 'number']).execute();
    expect(attempts).toEqual([{ id: again?.attemptId, number: 1 }]);
  });

  it('refuses a second worker process under a name whose lease is live', async () => {
    await pushes(1);
    await claim('w1', { pool: 'linux', tags: { gpu: 'yes' }, instance: 'process-1' });
    await expect(claim('w1', { pool: 'linux', tags: {}, instance: 'process-2' })).rejects.toMatchObject({
      kind: 'name-in-use',
    });
    const running = await db.selectFrom('attempts').select('state').execute();
    expect(running).toEqual([{ state: 'running' }]);
  });
});
