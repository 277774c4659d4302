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
import { DATABASES, type DatabaseKind } from '../test/helpers/databases.ts';
import { killAll } from '../test/helpers/processes.ts';
import { startClaimers } from './claimers.ts';
import { describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';
import { startTrivialFarm } from './trivial-farm.ts';

const WORKERS = numberOption('workers', 50);
const JOBS = numberOption('jobs', 500);
const RUNS = numberOption('runs', 3);
/** Between pushes: long enough that the previous job was claimed, so every push meets waiting workers. */
const SPACING_MS = 20;

async function run(database: DatabaseKind): Promise<{ server: number[]; roundTrip: number[] }> {
  const { revision, server, remove } = await startTrivialFarm(database);
  const stop = new AbortController();
  const sentAt = new Map<number, number>();
  const receivedAt = new Map<number, number>();
  const claimers = startClaimers(server.url, WORKERS, stop.signal, (jobId) => receivedAt.set(jobId, performance.now()));
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
  await claimers;
  await killAll();
  await remove();
  return { server: serverSide.sort((a, b) => a - b), roundTrip: roundTrip.sort((a, b) => a - b) };
}

console.log(`claim latency with ${WORKERS} waiting workers, ${JOBS} jobs per run, on ${describeMachine()}`);
interface Figures {
  p50s: number[];
  p99s: number[];
  trips50: number[];
  trips99: number[];
}
const figures = new Map<DatabaseKind, Figures>(
  DATABASES.map((database) => [database, { p50s: [], p99s: [], trips50: [], trips99: [] }]),
);
for (let i = 0; i < RUNS; i++) {
  for (const database of DATABASES) {
    const { server, roundTrip } = await run(database);
    const of = figures.get(database) as Figures;
    of.p50s.push(percentile(server, 50));
    of.p99s.push(percentile(server, 99));
    of.trips50.push(percentile(roundTrip, 50));
    of.trips99.push(percentile(roundTrip, 99));
    console.log(
      `run ${i + 1} ${database.padEnd(8)}: pending→claimed p50 ${percentile(server, 50)} ms, p99 ${percentile(server, 99)} ms, max ${server.at(-1)} ms | ` +
        `push sent→assignment received p50 ${percentile(roundTrip, 50).toFixed(1)} ms, p99 ${percentile(roundTrip, 99).toFixed(1)} ms`,
    );
  }
}
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
for (const database of DATABASES) {
  const of = figures.get(database) as Figures;
  console.log(
    `=> ${database.padEnd(8)} median over ${RUNS} runs: pending→claimed p50 ${median(of.p50s)} ms, p99 ${median(of.p99s)} ms; ` +
      `push sent→assignment received p50 ${median(of.trips50).toFixed(1)} ms, p99 ${median(of.trips99).toFixed(1)} ms`,
  );
}
