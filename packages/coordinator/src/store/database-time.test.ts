import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load-config.ts';
import { schedulingPolicy } from '../scheduler/live-policy.ts';
import { LocalCommits } from './commit-signal.ts';
import { readDatabaseTime } from './database-time.ts';
import { StoreError } from './errors.ts';
import { openDatabase } from './open-database.ts';
import type { Database } from './schema.ts';
import { Store } from './store.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';

const farm = parseConfig(
  'farm.yml',
  `repos: [{ name: demo, url: /x }]
builders:
  - { name: plain, repo: demo, pool: linux, steps: [{ name: s, run: "true" }] }
`,
);

/**
 * On PostgreSQL a transaction's time is the database's clock: the process's clock here reads
 * 1970, so every lease and stamp that is not near the database's time came from the process.
 */
describe('the database clock on PostgreSQL', () => {
  let schema: TestSchema;
  let db: Kysely<Database>;
  let store: Store;

  beforeAll(async () => {
    schema = await createTestSchema();
    ({ db } = await openDatabase(schema.url));
    store = new Store(
      db,
      new LocalCommits(),
      () => farm.scheduling.agingMs,
      () => 0,
      true,
    );
  });

  afterAll(async () => {
    await db.destroy();
    await schema.drop();
  });

  const claim = async (name: string, leaseMs: number) => {
    await store.checkIn(name, { pool: 'linux', instance: name }, null);
    const assigned = await store.assignWork('linux', [{ name, idleSince: 0 }], schedulingPolicy(farm), {
      leaseMs,
      heartbeatSeconds: 1,
    });
    const assignment = assigned.get(name);
    if (!assignment) throw new Error(`${name} was given no work`);
    return assignment;
  };

  it('stamps claims, leases and renewals with the database’s time, and refuses a renewal once it passed the lease', async () => {
    await store.createPush(farm, { repo: 'demo', branch: 'main', revision: 'a1' });
    const before = await readDatabaseTime(db);
    const { attemptId } = await claim('w1', 400);
    const after = await readDatabaseTime(db);
    const attempt = await db.selectFrom('attempts').selectAll().where('id', '=', attemptId).executeTakeFirstOrThrow();
    expect(attempt.started_at).toBeGreaterThanOrEqual(before);
    expect(attempt.started_at).toBeLessThanOrEqual(after);
    expect(attempt.lease_expires_at).toBe(attempt.started_at + 400);

    const renewed = await store.heartbeat(attemptId, 400, null);
    expect(Date.parse(renewed.leaseExpiresAt)).toBeGreaterThanOrEqual(after + 400);

    await sleep(Date.parse(renewed.leaseExpiresAt) - (await readDatabaseTime(db)) + 50);
    const refusal = await store.heartbeat(attemptId, 400, null).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreError);
    expect(refusal).toMatchObject({ kind: 'lease-lost', details: { reason: 'lease-expired' } });
    expect(await store.expireLeases()).toBe(1);
  });
});
