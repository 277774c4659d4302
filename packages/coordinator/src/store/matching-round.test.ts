import { type Kysely, sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schedulingPolicy } from '../scheduler/live-policy.ts';
import { FARM_YAML, farmFrom } from './contract/harness.ts';
import { openDatabase } from './open-database.ts';
import { openFarmStore } from './open-store.ts';
import type { FarmStore } from './port.ts';
import type { Database } from './schema.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';

const farm = farmFrom(FARM_YAML);
const policy = schedulingPolicy(farm);
const LEASE = { leaseMs: 30_000, heartbeatSeconds: 10 };

let revisions = 0;
async function pushBuild(store: FarmStore): Promise<number> {
  revisions += 1;
  const pushed = await store.pushes.create(farm, { repo: 'app', branch: 'main', revision: `r${revisions}` });
  return pushed.jobs.find((job) => job.builder === 'build')?.id as number;
}

async function match(store: FarmStore, workers: string[]) {
  for (const name of workers) await store.workers.checkIn(name, { pool: 'linux', instance: name });
  return store.jobs.assignWork(
    'linux',
    workers.map((name) => ({ name, idleSince: 0 })),
    policy,
    LEASE,
  );
}

/**
 * A matching round reads its page of the queue without locks; these cases are about what
 * happens when another coordinator sharing the database holds or takes a job meanwhile, which
 * only PostgreSQL allows (an SQLite farm has one writer).
 */
describe('matching rounds on PostgreSQL beside another coordinator', () => {
  let schema: TestSchema;
  let stores: FarmStore[];
  let admin: Kysely<Database>;

  beforeAll(async () => {
    schema = await createTestSchema();
    const open = () =>
      openFarmStore(schema.url, { agingMs: () => farm.scheduling.agingMs, logger: pino({ level: 'silent' }) });
    stores = [await open(), await open()];
    admin = (await openDatabase(schema.url)).db;
  });

  afterAll(async () => {
    for (const store of stores ?? []) await store.close();
    await admin?.destroy();
    await schema?.drop();
  });

  it('passes over a job another transaction holds, without waiting, and starts the next one instead', async () => {
    const [store] = stores as [FarmStore];
    const held = await pushBuild(store);
    const next = await pushBuild(store);
    const holder = await admin.startTransaction().execute();
    try {
      await sql`select id from jobs where id = ${held} for update`.execute(holder);
      const assigned = await match(store, ['w1']);
      expect(assigned.get('w1')?.job.id).toBe(next);
    } finally {
      await holder.rollback().execute();
    }
    expect((await store.jobs.get(held)).state).toBe('pending');
    expect((await match(store, ['w2'])).get('w2')?.job.id).toBe(held);
  });

  it('starts every job once when two coordinators match their workers at the same time', async () => {
    const [mine, theirs] = stores as [FarmStore, FarmStore];
    const jobs = new Set<number>();
    for (let i = 0; i < 12; i++) jobs.add(await pushBuild(mine));
    const rounds = await Promise.all([
      match(mine, ['a1', 'a2', 'a3']),
      match(theirs, ['b1', 'b2', 'b3']),
      match(mine, ['a4', 'a5', 'a6']),
      match(theirs, ['b4', 'b5', 'b6']),
    ]);
    const started = rounds.flatMap((round) => [...round.values()].map((assignment) => assignment.job.id));
    // Twelve jobs, twelve workers: each worker got one, and no job went to two of them.
    expect(started).toHaveLength(12);
    expect(new Set(started)).toEqual(jobs);
    for (const id of jobs) {
      const job = await mine.jobs.get(id);
      expect(job.attempts).toHaveLength(1);
    }
  });
});
