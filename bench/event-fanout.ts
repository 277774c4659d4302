/**
 * Event fan-out: 1,000 SSE subscribers with mixed filters (bench/fanout-workload.ts) while
 * pushes of 25 events each are produced at a target event rate. Prints delivery latency (commit
 * → received by the subscriber) p50, p99 and max, the deliveries, and the coordinator's CPU.
 *
 * --producer in-process (default): the coordinator makes the pushes itself through its store
 *   (bench/fanout-coordinator.ts), the test-only path: on two shared cores the driver's HTTP
 *   round trips cap the public API below 2,000 events/s.
 * --producer api: the pushes go through POST /api/v1/pushes from this process.
 *
 *   npm run bench:fanout [-- --producer in-process|api --subscribers 1000 --rate 2000 --seconds 20 --runs 3]
 *
 * --replay: the replay case. The coordinator makes a history of --history events (100,000) in its
 * own process, is restarted (its memory ring empty, the history all in the store), and then
 * --subscribers (1,000) SSE clients with the same mixed filters (--replay-filter none: every
 * client takes everything) read it from since=0 while a probe in a process of its own asks
 * GET /api/v1/pushes?limit=10 every 50 ms. Prints the probe's latency p50, p99 and max, the
 * coordinator's own event-loop delay p99 and max, its RSS before and at its peak, how long the replay took (until no byte came for 3 s
 * with the coordinator idle), the deliveries, and whether the two clients that take everything
 * got every event once, in order.
 *
 *   npm run bench:fanout -- --replay [--subscribers 1000 --history 100000 --replay-filter mixed|none --runs 1]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwitchyardClient } from '@switchyard/protocol';
import { TestFarm } from '../test/helpers/farm.ts';
import { killAll, startServer } from '../test/helpers/processes.ts';
import { EVENTS_PER_PUSH, FANOUT_CONFIG, filterFor, produce, pushRequest } from './fanout-workload.ts';
import { describeMachine, percentile, processCpuSeconds } from './machine.ts';
import { flagOption, numberOption, textOption } from './options.ts';

const SUBSCRIBERS = numberOption('subscribers', 1000);
const RATE = numberOption('rate', 2000);
const SECONDS = numberOption('seconds', 20);
const RUNS = numberOption('runs', 3);
const PRODUCER = textOption('producer') ?? 'in-process';
if (PRODUCER !== 'in-process' && PRODUCER !== 'api') throw new Error('--producer is in-process or api');
const REPLAY = flagOption('replay');
const HISTORY = numberOption('history', 100_000);
const REPLAY_FILTER = textOption('replay-filter') ?? 'mixed';
if (REPLAY_FILTER !== 'mixed' && REPLAY_FILTER !== 'none') throw new Error('--replay-filter is mixed or none');
/** A replay still sending after this long is reported as it stands. */
const REPLAY_LIMIT_SECONDS = numberOption('replay-limit', 900);
const HERE = dirname(fileURLToPath(import.meta.url));

interface Subscriber {
  latencies: number[];
  close(): void;
}

/**
 * One SSE subscriber. It reads the commit time from the start of each event's JSON, which the
 * coordinator writes as {"id":…,"type":…,"time":…}, without parsing the rest: a thousand
 * subscribers in one process must stay cheaper than the coordinator they measure.
 */
function subscribe(url: string, agent: Agent, ready: () => void): Subscriber {
  const subscriber: Subscriber = { latencies: [], close: () => {} };
  const req = request(url, { agent, headers: { accept: 'text/event-stream' } }, (response) => {
    response.setEncoding('utf8');
    let buffer = '';
    let opened = false;
    response.on('data', (chunk: string) => {
      const now = Date.now();
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        if (!opened && message.includes('event: ready')) {
          opened = true;
          ready();
          continue;
        }
        const at = message.indexOf('"time":"');
        if (at >= 0) subscriber.latencies.push(now - Date.parse(message.slice(at + 8, at + 32)));
      }
    });
  });
  req.on('error', () => {});
  req.end();
  subscriber.close = () => req.destroy();
  return subscriber;
}

/** A coordinator that produces its own pushes; `produce` runs the schedule in it. */
async function startInProcess(farm: TestFarm, revision: string) {
  const child: ChildProcess = fork(join(HERE, 'fanout-coordinator.ts'), [farm.config, farm.data], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [{ url }] = (await once(child, 'message')) as [{ url: string }];
  return {
    url,
    pid: child.pid as number,
    async produce() {
      child.send({ rate: RATE, seconds: SECONDS, revision });
      const [result] = (await once(child, 'message')) as [{ sent: number; failed: number; elapsed: number }];
      return result;
    },
    async history(pushes: number) {
      child.send({ pushes, revision });
      const [result] = (await once(child, 'message')) as [{ sent: number; failed: number; elapsed: number }];
      return result;
    },
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function startWithApi(farm: TestFarm, revision: string) {
  const server = await startServer({ config: farm.config, data: farm.data });
  const client = new SwitchyardClient({ server: server.url });
  return {
    url: server.url,
    pid: server.child.pid as number,
    produce: () => produce((n) => client.createPush(pushRequest(n, revision)), RATE / EVENTS_PER_PUSH, SECONDS, 32),
    stop: async () => {
      await killAll();
    },
  };
}

async function run() {
  const farm = new TestFarm();
  farm.writeConfig(FANOUT_CONFIG);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const coordinator = PRODUCER === 'api' ? await startWithApi(farm, revision) : await startInProcess(farm, revision);
  const agent = new Agent({ keepAlive: true, maxSockets: SUBSCRIBERS + 64 });
  let opened = 0;
  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => {
    const query = filterFor(i);
    return subscribe(`${coordinator.url}/api/v1/events${query ? `?${query}` : ''}`, agent, () => {
      opened += 1;
    });
  });
  while (opened < SUBSCRIBERS) await new Promise((resolve) => setTimeout(resolve, 50));

  const cpuBefore = processCpuSeconds(coordinator.pid);
  const driverBefore = process.cpuUsage();
  const { sent, failed, elapsed } = await coordinator.produce();
  const cpu = (processCpuSeconds(coordinator.pid) - cpuBefore) / elapsed;
  const driverUsage = process.cpuUsage(driverBefore);
  const driverCpu = (driverUsage.user + driverUsage.system) / 1e6 / elapsed;
  // Let the last events arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const subscriber of subscribers) subscriber.close();
  agent.destroy();
  await coordinator.stop();
  farm.remove();

  const latencies = subscribers.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const produced = ((sent - failed) * EVENTS_PER_PUSH) / elapsed;
  const delivered = latencies.length / elapsed;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `${SUBSCRIBERS} subscribers | ${produced.toFixed(0)} events/s produced (${sent - failed} pushes, ${failed} failed) | ` +
      `${delivered.toFixed(0)} deliveries/s | latency p50 ${p50} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms | ` +
      `coordinator CPU ${(cpu * 100).toFixed(0)} % of a core, subscribers' process ${(driverCpu * 100).toFixed(0)} %, ` +
      `machine load ${loadavg()[0]?.toFixed(1)}`,
  );
  return { p50, p99, cpu, produced, delivered };
}

/** Resident memory of a process, MiB, from /proc. */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

interface ReplayClient {
  events: number;
  bytes: number;
  /** For a client that takes everything: events whose id was not the one after the last. */
  outOfOrder: number;
  close(): void;
}

/**
 * One replaying SSE client. It counts the events (each message starts `id: `) without parsing
 * them; one that takes everything also checks that the ids come one after another.
 */
function replayClient(url: string, agent: Agent, checkIds: boolean): ReplayClient {
  const client: ReplayClient = { events: 0, bytes: 0, outOfOrder: 0, close: () => {} };
  let lastId = 0;
  const req = request(url, { agent, headers: { accept: 'text/event-stream' } }, (response) => {
    response.setEncoding('utf8');
    let tail = '';
    response.on('data', (chunk: string) => {
      client.bytes += chunk.length;
      const text = tail + chunk;
      let at = text.indexOf('\n\nid: ');
      let counted = 0;
      while (at >= 0) {
        const end = text.indexOf('\n', at + 6);
        if (end < 0) break;
        client.events += 1;
        if (checkIds) {
          const id = Number(text.slice(at + 6, end));
          if (id !== lastId + 1) client.outOfOrder += 1;
          lastId = id;
        }
        counted = end;
        at = text.indexOf('\n\nid: ', end);
      }
      // Keep what may be the start of a message the chunk cut, and nothing already counted.
      tail = at >= 0 ? text.slice(at) : text.slice(Math.max(counted, text.length - 6));
    });
  });
  req.on('error', () => {});
  req.end();
  client.close = () => req.destroy();
  return client;
}

/**
 * From the coordinator's /metrics: its own event-loop delay (ms) since the last scrape, as
 * prom-client measures it (what its answers waited for, apart from the machine's other load),
 * its store reads of history batches (NaN before they were counted), and its JavaScript heap in use.
 */
async function coordinatorFigures(
  url: string,
): Promise<{ p99: number; max: number; historyReads: number; heapMiB: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) =>
    Number(
      text
        .split('\n')
        .find((line) => line.startsWith(`${name} `))
        ?.split(' ')[1],
    );
  return {
    p99: value('switchyard_nodejs_eventloop_lag_p99_seconds') * 1000,
    max: value('switchyard_nodejs_eventloop_lag_max_seconds') * 1000,
    historyReads: value('switchyard_event_history_reads_total'),
    heapMiB: value('switchyard_nodejs_heap_size_used_bytes') / 2 ** 20,
  };
}

async function runReplay() {
  const farm = new TestFarm();
  farm.writeConfig(FANOUT_CONFIG);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const maker = await startInProcess(farm, revision);
  const made = await maker.history(Math.ceil(HISTORY / EVENTS_PER_PUSH));
  const events = (made.sent - made.failed) * EVENTS_PER_PUSH;
  await maker.stop();
  // Restarted: the memory ring is empty and the whole history is in the store.
  const coordinator = await startInProcess(farm, revision);
  const rssBefore = rssMiB(coordinator.pid);

  const probe = fork(join(HERE, 'api-probe.ts'), [`${coordinator.url}/api/v1/pushes?limit=10`, '50'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await once(probe, 'message');
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMiB(coordinator.pid));
  }, 250);

  // A scrape resets the coordinator's event-loop delay histogram: the one at the end covers the replay.
  await coordinatorFigures(coordinator.url);
  const agent = new Agent({ keepAlive: true, maxSockets: SUBSCRIBERS + 64 });
  // The monotonic clock: this VM's wall clock has been seen to jump by minutes.
  const start = performance.now();
  const clients = Array.from({ length: SUBSCRIBERS }, (_, i) => {
    const query = REPLAY_FILTER === 'none' ? '' : filterFor(i);
    return replayClient(`${coordinator.url}/api/v1/events?since=0${query ? `&${query}` : ''}`, agent, query === '');
  });
  // Over when no event has come for 3 s and the coordinator was nearly idle meanwhile (the probe
  // costs it about a tenth of a core), not merely too busy to send. Events, not bytes: streams
  // with nothing to send still send a heartbeat every 15 s.
  let delivered = 0;
  let lastEventAt = start;
  let quietSince = performance.now();
  let cpuAtQuiet = processCpuSeconds(coordinator.pid);
  while (performance.now() - start < REPLAY_LIMIT_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = clients.reduce((sum, c) => sum + c.events, 0);
    if (now !== delivered) {
      delivered = now;
      lastEventAt = performance.now();
      quietSince = lastEventAt;
      cpuAtQuiet = processCpuSeconds(coordinator.pid);
    } else if (performance.now() - quietSince >= 3000) {
      if (processCpuSeconds(coordinator.pid) - cpuAtQuiet < 0.9) break;
      quietSince = performance.now();
      cpuAtQuiet = processCpuSeconds(coordinator.pid);
    }
  }
  const finished = performance.now() - start < REPLAY_LIMIT_SECONDS * 1000;
  const figures = await coordinatorFigures(coordinator.url);
  probe.send('stop');
  const [{ latencies, failures }] = (await once(probe, 'message')) as [{ latencies: number[]; failures: number }];
  clearInterval(sampler);
  const rssAfter = rssMiB(coordinator.pid);
  for (const client of clients) client.close();
  agent.destroy();
  await coordinator.stop();
  farm.remove();

  const sorted = latencies.sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const deliveries = clients.reduce((sum, c) => sum + c.events, 0);
  const everything = clients.filter((_, i) => REPLAY_FILTER === 'none' || filterFor(i) === '');
  const complete = everything.every((c) => c.events === events && c.outOfOrder === 0);
  console.log(
    `${SUBSCRIBERS} clients from since=0 over ${events} events (${REPLAY_FILTER} filters) | ` +
      `replay ${((lastEventAt - start) / 1000).toFixed(1)} s${finished ? '' : ' (cut off, still sending)'}, ` +
      `${deliveries} deliveries, ${(clients.reduce((sum, c) => sum + c.bytes, 0) / 2 ** 20).toFixed(0)} MiB | ` +
      `${everything.length} clients taking everything: ${complete ? 'every event once, in order' : `INCOMPLETE (${everything.map((c) => `${c.events} events, ${c.outOfOrder} out of order`).join('; ')})`} | ` +
      `API probe: ${sorted.length} requests, ${failures} failed, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms | ` +
      `coordinator event-loop delay p99 ${figures.p99.toFixed(0)} ms, max ${figures.max.toFixed(0)} ms | ` +
      `${Number.isNaN(figures.historyReads) ? '' : `${figures.historyReads} store reads of history batches | `}` +
      `coordinator RSS ${rssBefore.toFixed(0)} MiB before, peak ${rssPeak.toFixed(0)} MiB, after ${rssAfter.toFixed(0)} MiB ` +
      `(heap in use at the end ${figures.heapMiB.toFixed(0)} MiB) | ` +
      `machine load ${loadavg()[0]?.toFixed(1)}`,
  );
  return { p50, p99, rssPeak, seconds: (lastEventAt - start) / 1000 };
}

if (REPLAY) {
  console.log(`event replay on ${describeMachine()}`);
  const results = [];
  for (let i = 0; i < numberOption('runs', 1); i++) results.push(await runReplay());
  const median = (values: number[]) =>
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    );
  console.log(
    `median of ${results.length} runs: API p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, ` +
      `p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms, coordinator RSS peak ${median(results.map((r) => r.rssPeak)).toFixed(0)} MiB, ` +
      `replay ${median(results.map((r) => r.seconds)).toFixed(1)} s`,
  );
  process.exit(0);
}

console.log(`event fan-out (producer: ${PRODUCER}, target ${RATE} events/s) on ${describeMachine()}`);
const results = [];
for (let i = 0; i < RUNS; i++) results.push(await run());
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
console.log(
  `median of ${RUNS} runs: p50 ${median(results.map((r) => r.p50))} ms, p99 ${median(results.map((r) => r.p99))} ms, ` +
    `${median(results.map((r) => r.produced)).toFixed(0)} events/s, ${median(results.map((r) => r.delivered)).toFixed(0)} deliveries/s, ` +
    `coordinator CPU ${(median(results.map((r) => r.cpu)) * 100).toFixed(0)} % of a core`,
);
