/**
 * Coordinator replicas on one PostgreSQL database.
 *
 * 1. Trivial-job throughput with 1, 2 and 3 replicas behind a round-robin balancer
 *    (test/helpers/round-robin.ts): 4 real `switchyard worker` processes and 8 pushing clients,
 *    all through the balancer, --jobs jobs; the clock stops at the last `job.finished` seen on an
 *    event stream, also through the balancer. On a 2-core machine replicas can't add capacity;
 *    the goal is that they don't collapse it: 3 replicas ≥ 0.7× one.
 * 2. Cross-replica wake-up: --claimers protocol-level workers hold long-poll claims on replica B
 *    while pushes go to replica A one at a time; per job, push sent → assignment received (both
 *    HTTP legs and the wake-up between replicas) and pending → claimed by the database's record.
 *    Goal: p99 under 50 ms.
 *
 *   npm run bench:replicas [-- --jobs 400 --runs 3 --claimers 20 --wake-jobs 300 --replicas 1,2,3 --wake-runs 3]
 */
import { SwitchyardClient } from '@switchyard/protocol';
import { killAll, startWorker, type TestServer } from '../test/helpers/processes.ts';
import { RoundRobin } from '../test/helpers/round-robin.ts';
import { countFinishedJobs, startClaimers } from './claimers.ts';
import { describeMachine, percentile, processCpuSeconds } from './machine.ts';
import { numberOption, textOption } from './options.ts';
import { startTrivialFarm } from './trivial-farm.ts';

const JOBS = numberOption('jobs', 400);
const RUNS = numberOption('runs', 3);
const WORKERS = 4;
const CLAIMERS = numberOption('claimers', 20);
const WAKE_JOBS = numberOption('wake-jobs', 300);
const WAKE_RUNS = numberOption('wake-runs', RUNS);
const REPLICA_COUNTS = (textOption('replicas') ?? '1,2,3').split(',').map(Number);
if (REPLICA_COUNTS.some((count) => !Number.isInteger(count) || count < 1))
  throw new Error('--replicas is a list like 1,2,3');
/** Between pushes in the wake-up case: long enough that every push meets waiting claimers. */
const SPACING_MS = 20;

async function throughput(replicaCount: number): Promise<number> {
  const { farm, revision, servers: replicas, remove } = await startTrivialFarm('postgres', replicaCount);
  const balancer = await RoundRobin.start(replicas.map((replica) => replica.url));
  const client = new SwitchyardClient({ server: balancer.url });
  for (let i = 0; i < WORKERS; i++) {
    startWorker({ server: balancer.url, name: `w${i}`, pool: 'bench', workDir: farm.workerDir(`w${i}`) });
  }
  while ((await client.listWorkers()).length < WORKERS) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));

  const finished = countFinishedJobs(client, JOBS);
  await new Promise((r) => setTimeout(r, 200));

  const pids = replicas.map((replica) => replica.child.pid as number);
  const cpuBefore = pids.map(processCpuSeconds);
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < JOBS) {
        next += 1;
        await client.createPush({ repo: 'bench', branch: 'main', revision });
      }
    }),
  );
  await finished.done;
  const rate = JOBS / ((performance.now() - start) / 1000);
  const cpuMs = pids.reduce((sum, pid, i) => sum + processCpuSeconds(pid) - (cpuBefore[i] as number), 0) * 1000;
  await finished.stop();
  const served = replicas.map((replica) => balancer.served.get(new URL(replica.url).origin) ?? 0);
  console.log(
    `${replicaCount} replica${replicaCount > 1 ? 's' : ' '} | ${WORKERS} workers | ${JOBS} jobs | ${rate.toFixed(1)} jobs/s | coordinators' CPU ${(cpuMs / JOBS).toFixed(1)} ms a job | requests per replica ${served.join(', ')}`,
  );
  await balancer.close();
  await killAll();
  await remove();
  return rate;
}

async function wakeUp(): Promise<{ roundTrip: number[]; recorded: number[] }> {
  const { revision, servers: replicas, remove } = await startTrivialFarm('postgres', 2);
  const [pushTo, claimFrom] = replicas as [TestServer, TestServer];
  const stop = new AbortController();
  const sentAt = new Map<number, number>();
  const receivedAt = new Map<number, number>();
  const claimers = startClaimers(claimFrom.url, CLAIMERS, stop.signal, (jobId) =>
    receivedAt.set(jobId, performance.now()),
  );
  while ((await claimFrom.client.listWorkers()).length < CLAIMERS) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));

  const jobIds: number[] = [];
  for (let i = 0; i < WAKE_JOBS; i++) {
    const before = performance.now();
    const push = await pushTo.client.createPush({ repo: 'bench', branch: 'main', revision });
    const id = push.jobs[0]?.id as number;
    sentAt.set(id, before);
    jobIds.push(id);
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  const deadline = Date.now() + 60_000;
  while (receivedAt.size < WAKE_JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (receivedAt.size < WAKE_JOBS) throw new Error(`only ${receivedAt.size} of ${WAKE_JOBS} jobs were claimed`);
  const recorded: number[] = [];
  for (const id of jobIds) {
    const job = await pushTo.client.getJob(id);
    recorded.push(Date.parse(job.startedAt as string) - Date.parse(job.pendingAt as string));
  }
  const roundTrip = jobIds.map((id) => (receivedAt.get(id) as number) - (sentAt.get(id) as number));
  stop.abort();
  await claimers;
  await killAll();
  await remove();
  return { roundTrip: roundTrip.sort((a, b) => a - b), recorded: recorded.sort((a, b) => a - b) };
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

console.log(`coordinator replicas on one PostgreSQL database, on ${describeMachine()}`);
const rates = new Map<number, number[]>(REPLICA_COUNTS.map((count) => [count, []]));
for (let run = 0; run < RUNS; run++) {
  for (const count of REPLICA_COUNTS) rates.get(count)?.push(await throughput(count));
}
const first = REPLICA_COUNTS[0] as number;
for (const count of REPLICA_COUNTS) {
  const rate = median(rates.get(count) as number[]);
  const base = median(rates.get(first) as number[]);
  console.log(
    `=> ${count} replica${count > 1 ? 's' : ' '}: median ${rate.toFixed(1)} jobs/s over ${RUNS} runs` +
      (count === first ? '' : `, ${(rate / base).toFixed(2)}× ${first} replica${first > 1 ? 's' : ''}`),
  );
}

if (WAKE_RUNS > 0) {
  const trips50: number[] = [];
  const trips99: number[] = [];
  const recorded99: number[] = [];
  for (let run = 0; run < WAKE_RUNS; run++) {
    const { roundTrip, recorded } = await wakeUp();
    trips50.push(percentile(roundTrip, 50));
    trips99.push(percentile(roundTrip, 99));
    recorded99.push(percentile(recorded, 99));
    console.log(
      `wake-up run ${run + 1}: push sent to A → assignment received from B p50 ${percentile(roundTrip, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(roundTrip, 99).toFixed(1)} ms, max ${roundTrip.at(-1)?.toFixed(1)} ms | ` +
        `pending → claimed (recorded) p50 ${percentile(recorded, 50)} ms, p99 ${percentile(recorded, 99)} ms`,
    );
  }
  console.log(
    `=> cross-replica wake-up, median over ${WAKE_RUNS} runs: p50 ${median(trips50).toFixed(1)} ms, p99 ${median(trips99).toFixed(1)} ms ` +
      `(recorded pending → claimed p99 ${median(recorded99)} ms)`,
  );
}
