/**
 * The dashboard in Debian's Chromium against a real coordinator (the three figures):
 *
 * 1. pushes page: 1,000 pushes of 24 jobs each in the store; time from navigation to the first
 *    push row, and to the end of the last long task (the page is interactive once both are past);
 * 2. live: pushes made in the coordinator's process at 2,000 events/s (25 events a push) while the
 *    page is open; the delay from each push's commit to its row in the DOM (p50/p99/max), and
 *    the share of one core the tab's main thread used (Chromium's TaskDuration);
 * 3. log: a failed step's 1,000,000-line log (75 MB; failed, so its section is open), once
 *    compacted; opening it (its line index was stored at compaction), and reaching its last
 *    line (past the first page of a million lines, read by range).
 *
 *   npm run bench:dashboard [-- --pushes 1000 --rate 2000 --seconds 10 --lines 1000000 --runs 3 --parts pushes,live,log]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Push, SwitchyardClient } from '@switchyard/protocol';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.ts';
import { waitForPushFinal } from '../test/helpers/events.ts';
import { TestFarm } from '../test/helpers/farm.ts';
import { killAll, startServer, startWorker } from '../test/helpers/processes.ts';
import { EVENTS_PER_PUSH, FANOUT_CONFIG } from './fanout-workload.ts';
import { describeMachine, percentile } from './machine.ts';
import { numberOption, textOption } from './options.ts';

const PUSHES = numberOption('pushes', 1000);
const RATE = numberOption('rate', 2000);
const SECONDS = numberOption('seconds', 10);
const LINES = numberOption('lines', 1_000_000);
const RUNS = numberOption('runs', 3);
const PARTS = new Set((textOption('parts') ?? 'pushes,live,log').split(','));

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** Records, in the page, when each push row first appears and every long task. */
const PAGE_PROBE = { path: join(dirname(fileURLToPath(import.meta.url)), 'dashboard-page-probe.js') };

interface Probe {
  firstRow: number;
  longTasks: Array<[number, number]>;
  seen: Record<string, number>;
}
const readProbe = (page: Page) => page.evaluate<Probe>('window.probe');

async function startFanoutCoordinator(farm: TestFarm): Promise<{ child: ChildProcess; url: string }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = fork(join(here, 'fanout-coordinator.ts'), [farm.config, farm.data], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [{ url }] = (await once(child, 'message')) as [{ url: string }];
  return { child, url };
}

async function produce(child: ChildProcess, rate: number, seconds: number, revision: string) {
  child.send({ rate, seconds, revision });
  const [result] = (await once(child, 'message')) as [{ sent: number; failed: number; elapsed: number }];
  return result;
}

async function pushesPage(browser: Browser, url: string): Promise<{ firstRow: number; idle: number }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(PAGE_PROBE);
  await page.goto(`${url}/`);
  await page.waitForSelector('article[data-push-id]');
  // Long tasks after the first row are what could still keep a click from answering.
  await page.waitForTimeout(1500);
  const probe = await readProbe(page);
  const idle = Math.max(probe.firstRow, ...probe.longTasks.map(([start, duration]) => start + duration));
  await page.close();
  return { firstRow: probe.firstRow, idle };
}

async function liveUpdates(browser: Browser, url: string, child: ChildProcess, revision: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(PAGE_PROBE);
  await page.goto(`${url}/`);
  await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () =>
    ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) as number;
  const before = await taskSeconds();
  const started = Date.now();
  const result = await produce(child, RATE, SECONDS, revision);
  await page.waitForTimeout(1500);
  const cpu = ((await taskSeconds()) - before) / ((Date.now() - started) / 1000);
  const probe = await readProbe(page);
  await page.close();
  return { result, cpu, seen: probe.seen, since: started };
}

/** Commit times of the pushes made since `since`, by id, read back through the API. */
async function commitTimes(client: SwitchyardClient, since: number): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  let before: number | undefined;
  for (;;) {
    const { pushes: page } = await client.request<{ pushes: Push[] }>('GET', '/api/v1/pushes', {
      query: { limit: 500, before },
    });
    for (const push of page) times.set(push.id, Date.parse(push.createdAt));
    const oldest = page.at(-1);
    if (!oldest || Date.parse(oldest.createdAt) < since) return times;
    before = oldest.id;
  }
}

async function bigLog(
  browser: Browser,
): Promise<{ cold: number; indexMs: number; warm: number[]; last: number[]; lineCount: number }> {
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
  const server = await startServer({ config: farm.config, data: farm.data });
  startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
  await waitForPushFinal(server.client, push.id, 600_000);
  const jobId = push.jobs[0]?.id as number;
  // A finished log as it stays: compacted into the log archive, with its line index beside it
  // (two blobs), which is what any replica opens it from.
  const archive = join(farm.data, 'log-archive');
  const archived = () =>
    readdirSync(archive)
      .filter((dir) => /^[0-9a-f]{2}$/.test(dir))
      .flatMap((dir) => readdirSync(join(archive, dir)));
  while (archived().length < 2) await sleep(100);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const open = async () => {
    const start = Date.now();
    await page.goto(`${server.url}/jobs/${jobId}/log`);
    await page.waitForSelector('.log-row.line .text:not(.loading)', { timeout: 120_000 });
    return Date.now() - start;
  };
  const cold = await open();
  const indexMs = await page.evaluate<number>(
    "performance.getEntriesByType('resource').find((e) => e.name.includes('/log/index'))?.duration ?? -1",
  );
  const warm: number[] = [];
  const last: number[] = [];
  let lineCount = 0;
  for (let run = 0; run < RUNS; run += 1) {
    warm.push(await open());
    lineCount = Number(await page.getAttribute('[data-testid="log-viewer"]', 'data-line-count'));
    const start = Date.now();
    await page.click('.go-to button');
    await page.waitForSelector(`.log-row.line[data-line="${lineCount}"] .text:not(.loading)`, { timeout: 60_000 });
    last.push(Date.now() - start);
  }
  await page.close();
  await server.kill();
  farm.remove();
  return { cold, indexMs, warm, last, lineCount };
}

console.log(`dashboard bench on ${describeMachine()}, Chromium at /usr/bin/chromium`);
const farm = new TestFarm();
farm.writeConfig(FANOUT_CONFIG);
const revision = farm.commit('main', { 'a.txt': 'a\n' });
const { child, url } = await startFanoutCoordinator(farm);
const browser = await launchBrowser();
try {
  // As fast as the store takes them, until there are enough.
  let stored = 0;
  while (stored < PUSHES && (PARTS.has('pushes') || PARTS.has('live'))) {
    const made = await produce(child, 200 * EVENTS_PER_PUSH, Math.max(1, (PUSHES - stored) / 200), revision);
    if (made.sent === made.failed) throw new Error(`the coordinator refused all ${made.failed} pushes`);
    stored += made.sent - made.failed;
  }
  console.log(`store: ${stored} pushes × ${EVENTS_PER_PUSH - 1} jobs`);

  if (PARTS.has('pushes')) {
    const loads = [];
    for (let run = 0; run < RUNS; run += 1) loads.push(await pushesPage(browser, url));
    console.log(
      `pushes page: first row ${loads.map((l) => l.firstRow.toFixed(0)).join(' / ')} ms, ` +
        `main thread idle ${loads.map((l) => l.idle.toFixed(0)).join(' / ')} ms (median ${median(loads.map((l) => l.idle)).toFixed(0)} ms)`,
    );
  }

  if (PARTS.has('live')) {
    const live = await liveUpdates(browser, url, child, revision);
    const times = await commitTimes(new SwitchyardClient({ server: url }), live.since);
    // Rows of pushes made during the run; the ones on the page before it started are not updates.
    const delays = Object.entries(live.seen)
      .flatMap(([id, shown]) => {
        const committed = times.get(Number(id));
        return committed !== undefined && committed >= live.since ? [shown - committed] : [];
      })
      .sort((a, b) => a - b);
    const made = live.result.sent - live.result.failed;
    const rate = (made * EVENTS_PER_PUSH) / live.result.elapsed;
    console.log(
      `live: ${made} pushes in ${live.result.elapsed.toFixed(1)} s = ${rate.toFixed(0)} events/s; ` +
        `${delays.length} rows seen, commit → DOM p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, ` +
        `max ${delays.at(-1)} ms; tab main thread ${(live.cpu * 100).toFixed(0)} % of a core`,
    );
  }

  if (PARTS.has('log')) {
    const log = await bigLog(browser);
    console.log(
      `log: ${log.lineCount.toLocaleString()} lines; first open ${log.cold} ms (the index request ${log.indexMs.toFixed(0)} ms), ` +
        `reopen ${log.warm.join(' / ')} ms, last line shown ${log.last.join(' / ')} ms after "end"`,
    );
  }
} finally {
  await browser.close();
  child.kill('SIGTERM');
  await once(child, 'exit');
  await killAll();
  farm.remove();
}
