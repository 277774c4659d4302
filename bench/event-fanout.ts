/**
 * Event fan-out: 1,000 SSE subscribers with mixed filters while events are produced at a target
 * rate through the public API: pushes to two repositories of 24 builders each (12 ready, 12
 * after them), so one push makes 25 events (push.created, 12 job.pending, 12 job.waiting), as a
 * push to a real farm makes a job per platform and suite. Prints delivery latency (commit →
 * received by the subscriber) p50, p99 and max, the deliveries, and the coordinator's CPU.
 *
 *   npm run bench:fanout [-- --subscribers 1000 --rate 2000 --seconds 20 --runs 3]
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { TestFarm } from '../test/helpers/farm.ts';
import { killAll, startServer } from '../test/helpers/processes.ts';
import { describeMachine, percentile } from './machine.ts';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

const SUBSCRIBERS = arg('subscribers', 1000);
const RATE = arg('rate', 2000);
const SECONDS = arg('seconds', 20);
const RUNS = arg('runs', 3);
const TRY_BRANCHES = 50;
const AUTHORS = 20;
const REPOS = ['app', 'lib'];
const PLATFORMS = ['linux', 'linux64', 'mac', 'win32', 'win64', 'android'];
const BUILDERS = [
  ...PLATFORMS.flatMap((p) => [`build-${p}`, `lint-${p}`]),
  ...PLATFORMS.flatMap((p) => [`test-${p}`, `talos-${p}`]),
];
const READY = BUILDERS.length / 2;
const EVENTS_PER_PUSH = 1 + BUILDERS.length;

const CONFIG = `
repos:
${REPOS.map((name) => `  - { name: ${name}, url: $REPO }`).join('\n')}
builders:
${REPOS.flatMap((repo) =>
  BUILDERS.map((builder, i) => {
    const after = i >= READY ? `, after: ${repo}-${BUILDERS[i - READY]}` : '';
    return `  - { name: ${repo}-${builder}, repo: ${repo}, pool: bench${after}, checkout: false, steps: [{ name: s, run: "true" }] }`;
  }),
).join('\n')}
`;

/** The subscribers' filters: most narrow (a try branch, an author, a pattern), some broad, two the firehose. */
function filterFor(index: number): string {
  const pick = (n: number) => 1 + ((index * 7919) % n);
  switch (index % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return `branch=try/${pick(TRY_BRANCHES)}`;
    case 4:
    case 5:
      return `routing_key=${encodeURIComponent(`job.*.${REPOS[index % 2]}.try/${pick(TRY_BRANCHES)}.#`)}`;
    case 6:
      return `author=${encodeURIComponent(`dev${pick(AUTHORS)}@example.org`)}`;
    case 7:
      return `types=push.created&repo=${REPOS[index % 2]}`;
    case 8:
      return `types=job.waiting&builder=${REPOS[index % 2]}-${BUILDERS[READY + (index % READY)]}`;
    default:
      return index === 9 || index === 509 ? '' : `routing_key=${encodeURIComponent('push.created.lib.main.#')}`;
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Subscriber {
  latencies: number[];
  received: number;
  close(): void;
}

/**
 * One SSE subscriber. It reads the commit time from the start of each event's JSON, which the
 * coordinator writes as {"id":…,"type":…,"time":…}, without parsing the rest: a thousand
 * subscribers in one process must stay cheaper than the coordinator they measure.
 */
function subscribe(url: string, agent: Agent, ready: () => void): Subscriber {
  const subscriber: Subscriber = { latencies: [], received: 0, close: () => {} };
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
        if (at < 0) continue;
        subscriber.received += 1;
        subscriber.latencies.push(now - Date.parse(message.slice(at + 8, at + 32)));
      }
    });
  });
  req.on('error', () => {});
  req.end();
  subscriber.close = () => req.destroy();
  return subscriber;
}

async function run(): Promise<{ p50: number; p99: number; cpu: number; produced: number; delivered: number }> {
  const farm = new TestFarm();
  farm.writeConfig(CONFIG);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const server = await startServer({ config: farm.config, data: farm.data });
  const pid = server.child.pid as number;
  const agent = new Agent({ keepAlive: true, maxSockets: SUBSCRIBERS + 64 });

  let opened = 0;
  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => {
    const query = filterFor(i);
    return subscribe(`${server.url}/api/v1/events${query ? `?${query}` : ''}`, agent, () => {
      opened += 1;
    });
  });
  while (opened < SUBSCRIBERS) await new Promise((resolve) => setTimeout(resolve, 50));

  // Pushes go out on a schedule (one tick every 10 ms), from a few concurrent connections.
  const pushesPerSecond = RATE / EVENTS_PER_PUSH;
  const client = server.client;
  let sent = 0;
  let failed = 0;
  const branches = ['main', 'release/1.0', ...Array.from({ length: TRY_BRANCHES }, (_, i) => `try/${i + 1}`)];
  const start = Date.now();
  const cpuBefore = cpuSeconds(pid);
  const inFlight = new Set<Promise<unknown>>();
  while (Date.now() - start < SECONDS * 1000) {
    const due = Math.floor(((Date.now() - start) / 1000) * pushesPerSecond);
    while (sent < due && inFlight.size < 32) {
      const n = sent;
      sent += 1;
      const push = client
        .createPush({
          repo: REPOS[n % 2] as string,
          branch: branches[(n * 31) % branches.length] as string,
          revision,
          author: `Dev ${1 + (n % AUTHORS)} <dev${1 + (n % AUTHORS)}@example.org>`,
        })
        .catch(() => {
          failed += 1;
        });
      inFlight.add(push);
      void push.finally(() => inFlight.delete(push));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(inFlight);
  const elapsed = (Date.now() - start) / 1000;
  // Let the last events arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cpu = (cpuSeconds(pid) - cpuBefore) / elapsed;

  for (const subscriber of subscribers) subscriber.close();
  agent.destroy();
  const latencies = subscribers.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const delivered = latencies.length;
  const produced = (sent - failed) * EVENTS_PER_PUSH;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `${SUBSCRIBERS} subscribers | ${(produced / elapsed).toFixed(0)} events/s produced (${sent - failed} pushes, ${failed} failed) | ` +
      `${(delivered / elapsed).toFixed(0)} deliveries/s | latency p50 ${p50} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms | ` +
      `coordinator CPU ${(cpu * 100).toFixed(0)} % of a core`,
  );
  await killAll();
  farm.remove();
  return { p50, p99, cpu, produced: produced / elapsed, delivered: delivered / elapsed };
}

console.log(`event fan-out on ${describeMachine()}`);
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
