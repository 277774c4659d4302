/**
 * What taking the database's clock costs the lease paths on PostgreSQL: a heartbeat and a claim
 * (check-in plus a matching round) with the transaction's time from the process's clock, against
 * the database's (read by the verb's first statement, see store/database-time.ts). One store in
 * this process, a fresh schema of the test PostgreSQL, one worker at a time, so each figure is
 * the store's own latency.
 *
 *   npx tsx bench/lease-time.ts [--rounds 2000]
 */
import { parseArgs } from 'node:util';
import { parseConfig } from '../packages/coordinator/src/config/load-config.ts';
import { schedulingPolicy } from '../packages/coordinator/src/scheduler/live-policy.ts';
import { LocalCommits } from '../packages/coordinator/src/store/commit-signal.ts';
import { openDatabase } from '../packages/coordinator/src/store/open-database.ts';
import { Store } from '../packages/coordinator/src/store/store.ts';
import { createTestSchema } from '../packages/coordinator/src/store/test-database.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2000' } } });
const rounds = Number(values.rounds);
const farm = parseConfig(
  'farm.yml',
  `repos: [{ name: demo, url: /x }]
builders:
  - { name: plain, repo: demo, pool: linux, steps: [{ name: s, run: "true" }] }
`,
);
const LEASE = { leaseMs: 60_000, heartbeatSeconds: 20 };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function measure(databaseTime: boolean) {
  const schema = await createTestSchema();
  const { db } = await openDatabase(schema.url);
  const store = new Store(db, new LocalCommits(), () => farm.scheduling.agingMs, Date.now, databaseTime);
  const claims: number[] = [];
  const heartbeats: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      await store.createPush(farm, { repo: 'demo', branch: 'main', revision: `r${i}`, exact: true });
      const started = performance.now();
      await store.checkIn('w1', { pool: 'linux', instance: 'w1' }, null);
      const assigned = await store.assignWork('linux', [{ name: 'w1', idleSince: 0 }], schedulingPolicy(farm), LEASE);
      claims.push(performance.now() - started);
      const attemptId = assigned.get('w1')?.attemptId as number;
      const beat = performance.now();
      await store.heartbeat(attemptId, LEASE.leaseMs, null);
      heartbeats.push(performance.now() - beat);
      await store.attemptFinished(attemptId, { result: 'success', finishedAt: new Date().toISOString() });
    }
  } finally {
    await db.destroy();
    await schema.drop();
  }
  const summary = (samples: number[]) => {
    const sorted = samples.slice(rounds / 10).sort((a, b) => a - b);
    return `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`;
  };
  return { claim: summary(claims), heartbeat: summary(heartbeats) };
}

for (const databaseTime of [false, true, false, true]) {
  const result = await measure(databaseTime);
  console.log(
    `${databaseTime ? 'database clock' : 'process clock '}  claim ${result.claim}  heartbeat ${result.heartbeat}`,
  );
}
