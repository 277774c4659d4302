/**
 * Log ingestion: 8 worker processes each run a step that prints as fast as it can, and the
 * coordinator stores it all. Prints MB/s into the coordinator and the number of log requests.
 *
 *   npm run bench:logs [-- --mib-per-worker 64 --runs 3 --postgres]
 *
 * `--postgres`: the coordinator stores the farm in a fresh schema of the test PostgreSQL
 * (SWITCHYARD_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
 */
import type { SwitchyardEvent } from '@switchyard/protocol';
import { createTestSchema } from '../packages/coordinator/src/store/test-database.ts';
import { TestFarm } from '../test/helpers/farm.ts';
import { killAll, startServer, startWorker } from '../test/helpers/processes.ts';
import { describeMachine, percentile } from './machine.ts';
import { flagOption, numberOption } from './options.ts';

const WORKERS = 8;
const MIB_PER_WORKER = numberOption('mib-per-worker', 64);
const RUNS = numberOption('runs', 3);
const POSTGRES = flagOption('postgres');

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 0);
}

async function run(): Promise<number> {
  const farm = new TestFarm();
  // 100-byte lines, like a compiler's; `head -c` stops each step at its share.
  const line = 'x'.repeat(99);
  farm.writeConfig(`
repos: [{ name: bench, url: $REPO }]
server: { max_log_bytes: ${2 * MIB_PER_WORKER * 2 ** 20} }
builders:
  - name: loud
    repo: bench
    pool: bench
    checkout: false
    steps: [{ name: print, run: "yes ${line} | head -c ${MIB_PER_WORKER * 2 ** 20}" }]
`);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const schema = POSTGRES ? await createTestSchema() : null;
  const server = await startServer({ config: farm.config, data: farm.data, database: schema?.url });
  for (let i = 0; i < WORKERS; i++) {
    startWorker({ server: server.url, name: `w${i}`, pool: 'bench', workDir: farm.workerDir(`w${i}`) });
  }
  while ((await server.client.listWorkers()).length < WORKERS) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));

  const bytesBefore = await metric(server.url, 'switchyard_log_bytes_total');
  const cpuBefore = await metric(server.url, 'switchyard_process_cpu_seconds_total');
  const requestsBefore = await metric(server.url, 'switchyard_log_requests_total');
  const abort = new AbortController();
  let finished = 0;
  let resolveDone: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  void (async () => {
    for await (const event of server.client.events({ types: ['job.finished'], signal: abort.signal })) {
      const job = (event as SwitchyardEvent<'job.finished'>).data.job;
      if (job.state !== 'success') console.error(`job ${job.id} ended ${job.state}`);
      finished += 1;
      if (finished === WORKERS) resolveDone();
    }
  })().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));

  const start = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, () => server.client.createPush({ repo: 'bench', branch: 'main', revision })),
  );
  await allDone;
  const elapsed = (performance.now() - start) / 1000;
  abort.abort();
  const bytes = (await metric(server.url, 'switchyard_log_bytes_total')) - bytesBefore;
  const requests = (await metric(server.url, 'switchyard_log_requests_total')) - requestsBefore;
  const coordinatorCpu = (await metric(server.url, 'switchyard_process_cpu_seconds_total')) - cpuBefore;
  console.log(
    `${WORKERS} workers × ${MIB_PER_WORKER} MiB | ${(bytes / 2 ** 20).toFixed(0)} MiB in ${elapsed.toFixed(2)} s | ` +
      `${(bytes / 2 ** 20 / elapsed).toFixed(1)} MiB/s | ${requests} requests (${(bytes / requests / 1024).toFixed(0)} KiB each) | ` +
      `coordinator CPU ${coordinatorCpu.toFixed(1)} s (${((100 * coordinatorCpu) / elapsed).toFixed(0)} % of a core)`,
  );
  await killAll();
  await schema?.drop();
  farm.remove();
  return bytes / 2 ** 20 / elapsed;
}

console.log(`log ingestion into ${POSTGRES ? 'PostgreSQL' : 'SQLite'} on ${describeMachine()}`);
const rates: number[] = [];
for (let i = 0; i < RUNS; i++) rates.push(await run());
rates.sort((a, b) => a - b);
console.log(
  `=> median ${percentile(rates, 50).toFixed(1)} MiB/s (${((percentile(rates, 50) * 2 ** 20) / 1e6).toFixed(1)} MB/s) over ${RUNS} runs`,
);
