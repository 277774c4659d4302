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
import { describeMachine, percentile } from './machine.ts';
import { numberOption, textOption } from './options.ts';

const SUBSCRIBERS = numberOption('subscribers', 1000);
const RATE = numberOption('rate', 2000);
const SECONDS = numberOption('seconds', 20);
const RUNS = numberOption('runs', 3);
const PRODUCER = textOption('producer') ?? 'in-process';
if (PRODUCER !== 'in-process' && PRODUCER !== 'api') throw new Error('--producer is in-process or api');

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

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
  const child: ChildProcess = fork(
    join(dirname(fileURLToPath(import.meta.url)), 'fanout-coordinator.ts'),
    [farm.config, farm.data],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const [{ url }] = (await once(child, 'message')) as [{ url: string }];
  return {
    url,
    pid: child.pid as number,
    async produce() {
      child.send({ rate: RATE, seconds: SECONDS, revision });
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

  const cpuBefore = cpuSeconds(coordinator.pid);
  const driverBefore = process.cpuUsage();
  const { sent, failed, elapsed } = await coordinator.produce();
  const cpu = (cpuSeconds(coordinator.pid) - cpuBefore) / elapsed;
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
