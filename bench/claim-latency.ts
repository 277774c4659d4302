/**
 * Live claim latency: how long a job waits between becoming pending and being claimed, while
 * 50 workers hold long-poll claims. The workers are protocol-level claimers in this process
 * (claim → report success at once → claim again), so the figure is the coordinator's matching
 * path — scheduler, transaction, hand-over — not job execution. Pushes arrive one at a time,
 * spaced out so that workers are always waiting.
 *
 * Two figures per job: pending → claimed by the coordinator's own clock (jobs' pendingAt and
 * startedAt, ms), and push request sent → assignment received by a worker (both HTTP legs).
 *
 *   npm run bench:claims [-- --workers 50 --jobs 500 --runs 3]
 */
import { setMaxListeners } from 'node:events';
import { SwitchyardClient } from '@switchyard/protocol';
import { killAll } from '../test/helpers/processes.ts';
import { describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';
import { startTrivialFarm } from './trivial-farm.ts';

const WORKERS = numberOption('workers', 50);
const JOBS = numberOption('jobs', 500);
const RUNS = numberOption('runs', 3);
/** Between pushes: long enough that the previous job was claimed, so every push meets waiting workers. */
const SPACING_MS = 20;

async function run(): Promise<{ server: number[]; roundTrip: number[] }> {
  const { farm, revision, server } = await startTrivialFarm();
  const stop = new AbortController();
  // Every claimer's request listens on it.
  setMaxListeners(WORKERS * 2, stop.signal);
  const sentAt = new Map<number, number>();
  const receivedAt = new Map<number, number>();
  const claimers = Array.from({ length: WORKERS }, async (_, i) => {
    const client = new SwitchyardClient({ server: server.url });
    const name = `c${i}`;
    while (!stop.signal.aborted) {
      const assignment = await client
        .claim(name, { pool: 'bench', instance: name, waitSeconds: 20 }, stop.signal)
        .catch(() => null);
      if (!assignment) continue;
      receivedAt.set(assignment.job.id, performance.now());
      await client.attemptFinished(assignment.attemptId, { result: 'success', finishedAt: new Date().toISOString() });
    }
  });
  const client = server.client;
  while ((await client.listWorkers()).length < WORKERS) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));

  const jobIds: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const before = performance.now();
    const push = await client.createPush({ repo: 'bench', branch: 'main', revision });
    const id = push.jobs[0]?.id as number;
    sentAt.set(id, before);
    jobIds.push(id);
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  while (receivedAt.size < JOBS) await new Promise((r) => setTimeout(r, 20));
  const serverSide: number[] = [];
  for (const id of jobIds) {
    const job = await client.getJob(id);
    serverSide.push(Date.parse(job.startedAt as string) - Date.parse(job.pendingAt as string));
  }
  const roundTrip = jobIds.map((id) => (receivedAt.get(id) as number) - (sentAt.get(id) as number));
  stop.abort();
  await Promise.allSettled(claimers);
  await killAll();
  farm.remove();
  return { server: serverSide.sort((a, b) => a - b), roundTrip: roundTrip.sort((a, b) => a - b) };
}

console.log(`claim latency with ${WORKERS} waiting workers, ${JOBS} jobs per run, on ${describeMachine()}`);
const p50s: number[] = [];
const p99s: number[] = [];
const trips50: number[] = [];
const trips99: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const { server, roundTrip } = await run();
  p50s.push(percentile(server, 50));
  p99s.push(percentile(server, 99));
  trips50.push(percentile(roundTrip, 50));
  trips99.push(percentile(roundTrip, 99));
  console.log(
    `run ${i + 1}: pending→claimed p50 ${percentile(server, 50)} ms, p99 ${percentile(server, 99)} ms, max ${server.at(-1)} ms | ` +
      `push sent→assignment received p50 ${percentile(roundTrip, 50).toFixed(1)} ms, p99 ${percentile(roundTrip, 99).toFixed(1)} ms`,
  );
}
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
console.log(
  `=> median over ${RUNS} runs: pending→claimed p50 ${median(p50s)} ms, p99 ${median(p99s)} ms; ` +
    `push sent→assignment received p50 ${median(trips50).toFixed(1)} ms, p99 ${median(trips99).toFixed(1)} ms`,
);
