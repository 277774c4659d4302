/**
 * End-to-end throughput of trivial jobs (checkout: false, run: "true"): pushes go in as fast as
 * the API takes them, real worker processes run them, and the clock stops when the last job is
 * final. Prints jobs per second and push → success latency, for 1 and 4 workers, on SQLite and
 * on PostgreSQL (runs alternate between the two, so drift in the machine's load hits both), and
 * PostgreSQL's median as a ratio of SQLite's. With 4 workers, Buildbot 3.7 (when installed:
 * `apt-get install -y buildbot buildbot-worker`) runs the same trivial builds in the same rounds,
 * triggered by `buildbot sendchange`, and the ratios to it are printed beside. Each run also says
 * how much CPU a job cost the coordinator, the workers (with their job processes), PostgreSQL
 * and the rest of the machine: on two cores the farm is CPU-bound, and that is where the two
 * databases differ. And how long after the last job the last log left the database for the log
 * archive (compaction runs in the background, where each log's end was committed), and the rate
 * counted to that moment: a farm that left its logs for later has not done all of a job's work.
 *
 *   npm run bench:throughput [-- --jobs 400 --runs 3 --buildbot-jobs 100]
 */
import { openDatabase } from '../packages/coordinator/src/store/open-database.ts';
import { DATABASES, type DatabaseKind } from '../test/helpers/databases.ts';
import { killAll, startWorker } from '../test/helpers/processes.ts';
import { buildbotInstalled, buildbotVersion, runBuildbotTrivialJobs } from './buildbot-farm.ts';
import { countFinishedJobs } from './claimers.ts';
import { cpuByRole, describeCpuPerUnit, describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';
import { startTrivialFarm } from './trivial-farm.ts';

const JOBS = numberOption('jobs', 400);
const RUNS = numberOption('runs', 3);
// Buildbot runs a few jobs a second here: fewer jobs keep its runs to a minute or two.
const BUILDBOT_JOBS = numberOption('buildbot-jobs', 100);
/** The peer runs beside us with this many workers, as the issue measured it. */
const BUILDBOT_WORKERS = 4;
/** Longer than the coordinators' sweep (a minute), which takes over a log whose compaction was missed. */
const COMPACTION_WAIT_MS = 120_000;

async function runBuildbot(): Promise<number> {
  const rate = await runBuildbotTrivialJobs({ jobs: BUILDBOT_JOBS, workers: BUILDBOT_WORKERS, concurrency: 8 });
  console.log(`buildbot | ${BUILDBOT_WORKERS} workers | ${BUILDBOT_JOBS} jobs | ${rate.toFixed(2)} jobs/s`);
  return rate;
}

/**
 * Seconds from now until the farm's last log is compacted: a finished step's log moves from the
 * database into the log archive in the background, where its end was committed.
 */
async function untilLogsCompacted(location: string): Promise<number> {
  const { db } = await openDatabase(location);
  const start = performance.now();
  try {
    for (;;) {
      const left = await db
        .selectFrom('steps')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('log_compressed', '=', 0)
        .executeTakeFirstOrThrow();
      if (Number(left.count) === 0) return (performance.now() - start) / 1000;
      if (performance.now() - start > COMPACTION_WAIT_MS) throw new Error(`${left.count} logs still in the database`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await db.destroy();
  }
}

/** Jobs a second to the last job's end, and to the last log's compaction: the work a job leaves behind paid too. */
interface Rates {
  toLastJob: number;
  toLastLog: number;
}

async function run(workers: number, database: DatabaseKind): Promise<Rates> {
  const { farm, revision, server, location, remove } = await startTrivialFarm(database);
  const client = server.client;
  for (let i = 0; i < workers; i++) {
    startWorker({ server: server.url, name: `w${i}`, pool: 'bench', workDir: farm.workerDir(`w${i}`) });
  }
  // Let the workers connect and park their claims before the clock starts.
  while ((await client.listWorkers()).length < workers) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));

  const createdAt = new Map<number, number>();
  const latencies: number[] = [];
  const finished = countFinishedJobs(client, JOBS, (job) =>
    latencies.push(Date.parse(job.finishedAt as string) - Date.parse(job.createdAt)),
  );
  await new Promise((r) => setTimeout(r, 200));

  const cpuBefore = cpuByRole();
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < JOBS) {
        next += 1;
        const push = await client.createPush({ repo: 'bench', branch: 'main', revision });
        createdAt.set(push.jobs[0]?.id as number, performance.now());
      }
    }),
  );
  const submitted = performance.now();
  await finished.done;
  const elapsed = (performance.now() - start) / 1000;
  const cpu = describeCpuPerUnit(cpuBefore, cpuByRole(), JOBS);
  await finished.stop();
  const compacted = await untilLogsCompacted(location);
  latencies.sort((a, b) => a - b);
  console.log(
    `${database.padEnd(8)} | ${workers} worker${workers > 1 ? 's' : ' '} | ${JOBS} jobs | ${(JOBS / elapsed).toFixed(1)} jobs/s | ` +
      `submit ${(JOBS / ((submitted - start) / 1000)).toFixed(0)} pushes/s | push→success p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms | ` +
      `CPU ms a job: ${cpu} | last log compacted ${compacted.toFixed(1)} s after the last job ` +
      `(${(JOBS / (elapsed + compacted)).toFixed(1)} jobs/s to it)`,
  );
  await killAll();
  await remove();
  return { toLastJob: JOBS / elapsed, toLastLog: JOBS / (elapsed + compacted) };
}

console.log(`trivial-job throughput on ${describeMachine()}`);
const withBuildbot = buildbotInstalled();
console.log(
  withBuildbot
    ? `peer: ${buildbotVersion()}, ${BUILDBOT_WORKERS} local workers, changes sent with buildbot sendchange`
    : 'peer skipped: Buildbot is not installed (apt-get install -y buildbot buildbot-worker)',
);
for (const workers of [1, 4]) {
  const rates = new Map<DatabaseKind, Rates[]>(DATABASES.map((database) => [database, []]));
  const buildbotRates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const database of DATABASES) rates.get(database)?.push(await run(workers, database));
    if (withBuildbot && workers === BUILDBOT_WORKERS) buildbotRates.push(await runBuildbot());
  }
  const median = (database: DatabaseKind, end: keyof Rates) =>
    percentile(
      (rates.get(database) as Rates[]).map((rate) => rate[end]).sort((a, b) => a - b),
      50,
    );
  const [sqlite, postgres] = DATABASES.map((database) => median(database, 'toLastJob')) as [number, number];
  const [sqliteToLog, postgresToLog] = DATABASES.map((database) => median(database, 'toLastLog')) as [number, number];
  console.log(
    `=> ${workers} worker${workers > 1 ? 's' : ''}, median over ${RUNS} runs: sqlite ${sqlite.toFixed(1)} jobs/s, ` +
      `postgres ${postgres.toFixed(1)} jobs/s, postgres/sqlite ${(postgres / sqlite).toFixed(2)}×; ` +
      `to the last log compacted: sqlite ${sqliteToLog.toFixed(1)}, postgres ${postgresToLog.toFixed(1)}, ` +
      `${(postgresToLog / sqliteToLog).toFixed(2)}×`,
  );
  if (buildbotRates.length === 0) continue;
  const buildbot = percentile(
    [...buildbotRates].sort((a, b) => a - b),
    50,
  );
  console.log(
    `=> ${workers} workers, buildbot median ${buildbot.toFixed(2)} jobs/s: sqlite/buildbot ${(sqlite / buildbot).toFixed(1)}×, ` +
      `postgres/buildbot ${(postgres / buildbot).toFixed(1)}×`,
  );
}
