/**
 * The first read of a finished 1,000,000-line log by a coordinator that has never read it (a
 * fresh process, as every replica is for most logs): the time to answer `log/index` and then
 * `log/lines` for the last 100 lines, and the coordinator's CPU time for the two.
 *
 * - stored: the line index the compacting coordinator stored beside the archive (step-index.ts);
 * - built: the same log with its index blob moved out of the log archive, so the coordinator
 *   finds none and reads the log through (LogText), as for a log compacted before the stored
 *   indexes.
 *
 * The two alternate, a fresh coordinator each time, so a machine's load shared by others falls
 * on both alike.
 *
 *   npm run bench:log-index [-- --lines 1000000 --runs 5]
 */
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForPushFinal } from '../test/helpers/events.ts';
import { TestFarm } from '../test/helpers/farm.ts';
import { startServer, startWorker } from '../test/helpers/processes.ts';
import { describeMachine, percentile, processCpuSeconds } from './machine.ts';
import { numberOption } from './options.ts';

const LINES = numberOption('lines', 1_000_000);
const RUNS = numberOption('runs', 5);

interface Run {
  indexMs: number;
  indexCpuMs: number;
  linesMs: number;
  linesCpuMs: number;
}

const farm = new TestFarm();
farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - name: huge
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: output
        run: seq -f 'line %.0f of a long build log, as compilers and test harnesses write them' 1 ${LINES}; exit 1
`);
const archiveDir = join(farm.data, 'log-archive');

function archived(): string[] {
  return readdirSync(archiveDir)
    .filter((dir) => /^[0-9a-f]{2}$/.test(dir))
    .flatMap((dir) => readdirSync(join(archiveDir, dir)).map((file) => join(archiveDir, dir, file)));
}

/**
 * Runs the job once and waits until its log is compacted: the archive and its stored index
 * exist (the coordinator's orderly shutdown waits for the compaction to be recorded).
 * Returns the index blob's path.
 */
async function makeLog(): Promise<{ jobId: number; indexPath: string }> {
  const server = await startServer({ config: farm.config, data: farm.data });
  const worker = startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
  await waitForPushFinal(server.client, push.id, 600_000);
  const jobId = push.jobs[0]?.id as number;
  while (archived().length < 2) await sleep(200);
  await worker.kill();
  await server.kill();
  const indexPath = archived().find((path) => readFileSync(path).subarray(0, 10).toString() === '{"format":');
  if (!indexPath) throw new Error(`no stored line index among ${archived().join(', ')}`);
  return { jobId, indexPath };
}

async function firstRead(jobId: number): Promise<Run> {
  const server = await startServer({ config: farm.config, data: farm.data });
  const pid = server.child.pid as number;
  try {
    const get = async (path: string) => {
      const response = await fetch(`${server.url}/api/v1/jobs/${jobId}/log/${path}`);
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
      return response.json() as Promise<{ lineCount: number; lines?: string[] }>;
    };
    const cpu0 = processCpuSeconds(pid);
    const t0 = performance.now();
    const index = await get('index');
    const t1 = performance.now();
    const cpu1 = processCpuSeconds(pid);
    const last = index.lineCount;
    const range = await get(`lines?from=${last - 99}&to=${last}`);
    const t2 = performance.now();
    const cpu2 = processCpuSeconds(pid);
    if (range.lines?.length !== 100) throw new Error(`expected 100 lines, got ${range.lines?.length}`);
    return { indexMs: t1 - t0, indexCpuMs: (cpu1 - cpu0) * 1000, linesMs: t2 - t1, linesCpuMs: (cpu2 - cpu1) * 1000 };
  } finally {
    await server.kill();
  }
}

console.log(`log index bench on ${describeMachine()}: ${LINES.toLocaleString()} lines, ${RUNS} runs of each`);
const { jobId, indexPath } = await makeLog();
const setAside = `${farm.data}/index-set-aside`;
const runs: Record<'built' | 'stored', Run[]> = { built: [], stored: [] };
for (let run = 0; run < RUNS; run += 1) {
  for (const kind of ['built', 'stored'] as const) {
    if (kind === 'built') renameSync(indexPath, setAside);
    else renameSync(setAside, indexPath);
    const result = await firstRead(jobId);
    runs[kind].push(result);
    console.log(
      `run ${run + 1} ${kind}: log/index ${result.indexMs.toFixed(0)} ms (CPU ${result.indexCpuMs.toFixed(0)} ms), ` +
        `log/lines of the last 100 ${result.linesMs.toFixed(0)} ms (CPU ${result.linesCpuMs.toFixed(0)} ms)`,
    );
  }
}
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
for (const kind of ['built', 'stored'] as const) {
  const of = (key: keyof Run) => median(runs[kind].map((r) => r[key])).toFixed(0);
  console.log(
    `${kind}, median: log/index ${of('indexMs')} ms (CPU ${of('indexCpuMs')} ms), log/lines ${of('linesMs')} ms (CPU ${of('linesCpuMs')} ms)`,
  );
}
farm.remove();
