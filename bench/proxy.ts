/**
 * The regional cache (`switchyard proxy`) measured two ways:
 *
 * (a) hits against nginx's proxy_cache on the same machine, side by side in one run: both proxies
 *     in front of the same origin, both warmed, then `wrk` (its own process) fetching a 1 MiB and a
 *     100 MiB object through each in turn, for several interleaved rounds. Prints each round's
 *     requests/s, MiB/s, latency p50/p99 and CPU per request, their medians, the ratios ours/nginx
 *     (median of the rounds' own ratios, and of the medians), and for ours the run's GC time and
 *     event-loop delay, read from its /metrics: what a latency tail would come from.
 * (b) a replay of a test farm's downloads, generated deterministically: pushes on four platforms,
 *     each with its build, its test package (shared between platforms of one OS and unchanged for
 *     several pushes) and the common tools, fetched by every test suite on 16 concurrent workers.
 *     Prints the bytes taken from the origin against the bytes served, next to the ideal
 *     1 − unique/total, for our proxy and (when installed) nginx.
 *
 *   npm run bench:proxy [-- --seconds 5 --rounds 3]
 *
 * (a) needs nginx and wrk, which tests and CI do not: `apt-get install -y nginx-light wrk`.
 * Without them it says so and runs (b) alone.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Origin, startOrigin } from '../packages/proxy/src/testing/origin.ts';
import { freePort, killAll } from '../test/helpers/processes.ts';
import { startProxyProcess } from '../test/helpers/proxy.ts';
import { describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';
import { seededRandom } from './seeded-random.ts';

const SECONDS = numberOption('seconds', 5);
const ROUNDS = numberOption('rounds', 3);
const MiB = 2 ** 20;

/** Deterministic bytes for a name: AES-CTR keystream, fast enough for hundreds of MiB. */
function bytesFor(name: string, size: number): Buffer {
  const key = createHash('sha256').update(name).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

// ---- the origin: fixed objects for (a), content-addressed packages for (b) ---------------------

const objects = new Map<string, Buffer>([
  ['/objects/1MiB', bytesFor('1MiB', MiB)],
  ['/objects/100MiB', bytesFor('100MiB', 100 * MiB)],
]);
let originBytesSent = 0;

function serveOrigin(path: string, res: import('node:http').ServerResponse): void {
  const body = objects.get(path.replace(/^\/api\/v1\/blobs\/sha256\//, '/blobs/'));
  if (!body) {
    res.writeHead(404);
    res.end();
    return;
  }
  originBytesSent += body.length;
  res.writeHead(200, {
    'content-length': body.length,
    'cache-control': 'public, max-age=31536000, immutable',
    etag: `"${createHash('sha256').update(path).digest('hex').slice(0, 16)}"`,
  });
  res.end(body);
}

// ---- nginx, configured like our proxy: one process, honouring the origin's Cache-Control --------

/** Whether a program is installed (wrk -v exits with 1, so only a failure to start counts). */
function isInstalled(command: string): boolean {
  return spawnSync(command, ['-v'], { stdio: 'ignore' }).error === undefined;
}

async function startNginx(originUrl: string): Promise<{ url: string; process: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-nginx-'));
  for (const sub of ['cache', 'tmp']) mkdirSync(join(dir, sub));
  const port = await freePort();
  // One worker, like our one Node process; sendfile on, as Debian ships it; the cache honours the
  // origin's Cache-Control (as ours does) and collapses misses with proxy_cache_lock.
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=bench:16m max_size=10g inactive=7d use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location /artifacts/ {
      proxy_pass ${originUrl}/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 600s;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`${url}/`);
      return { url, process: child, dir };
    } catch (error) {
      if (tries > 100 || child.exitCode !== null) throw new Error(`nginx did not start: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

// ---- (a) hits: wrk against both -----------------------------------------------------------------

interface HitFigures {
  requestsPerSecond: number;
  mibPerSecond: number;
  p50: number;
  p99: number;
  /** CPU time of the proxy's processes per request: what scheduling noise does not move. */
  cpuMsPerRequest: number;
}

/** What our proxy's own metrics say of a run: the causes a latency tail could have. */
interface TailCauses {
  gcMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

interface Proxy {
  name: string;
  url: string;
  /** The process serving it (nginx: the master, whose worker is its child). */
  pid: number;
}

const OURS = 'switchyard proxy';
const NGINX = 'nginx proxy_cache';

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!match) throw new Error(`unreadable wrk latency ${value}`);
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * factor;
}

/** User and system CPU seconds of a process and its live children (nginx's worker), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const own = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children === '' ? own : own + children.split(' ').reduce((sum, child) => sum + cpuSeconds(Number(child)), 0);
}
const CLOCK_TICKS_PER_SECOND = 100;

function runWrk(proxy: Proxy, path: string, connections: number, objectSize: number): HitFigures {
  const cpuBefore = cpuSeconds(proxy.pid);
  const output = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', `${proxy.url}/artifacts${path}`],
    { encoding: 'utf8' },
  );
  const cpu = cpuSeconds(proxy.pid) - cpuBefore;
  if (/Non-2xx/.test(output)) throw new Error(`wrk got errors from ${proxy.url}:\n${output}`);
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1]);
  return {
    requestsPerSecond,
    mibPerSecond: (requestsPerSecond * objectSize) / MiB,
    p50: toMs(/\s50%\s+(\S+)/.exec(output)?.[1] ?? ''),
    p99: toMs(/\s99%\s+(\S+)/.exec(output)?.[1] ?? ''),
    cpuMsPerRequest: (cpu * 1000) / requests,
  };
}

/**
 * Reads the proxy's prom-client metrics. Its event-loop delay histogram is reset by every read,
 * so reading just before a run and just after it gives that run's figures (at the monitor's
 * 10 ms resolution); the GC time is a running sum, to subtract.
 */
async function readTailMetrics(url: string): Promise<{ gcSeconds: number; loopP99: number; loopMax: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
  return {
    gcSeconds: value(/^switchyard_proxy_nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm),
    loopP99: value(/^switchyard_proxy_nodejs_eventloop_lag_p99_seconds (\S+)$/gm),
    loopMax: value(/^switchyard_proxy_nodejs_eventloop_lag_max_seconds (\S+)$/gm),
  };
}

async function cacheStatus(url: string): Promise<string> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.headers.get('x-switchyard-cache') ?? response.headers.get('x-cache') ?? 'none';
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

async function benchHits(proxies: Proxy[]): Promise<void> {
  const cases = [
    { path: '/objects/1MiB', size: MiB, connections: 8 },
    { path: '/objects/100MiB', size: 100 * MiB, connections: 4 },
  ];
  for (const { url, name } of proxies) {
    for (const { path } of cases) {
      await cacheStatus(`${url}/artifacts${path}`);
      const status = await cacheStatus(`${url}/artifacts${path}`);
      if (status !== 'HIT') throw new Error(`${name} does not serve ${path} from its cache (${status})`);
    }
  }
  console.log(`\n(a) hits, wrk -t1, ${SECONDS} s per run, ${ROUNDS} interleaved rounds (medians)`);
  for (const { path, size, connections } of cases) {
    const figures = new Map<string, HitFigures[]>(proxies.map((proxy) => [proxy.name, []]));
    const tails: TailCauses[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const proxy of proxies) {
        const before = proxy.name === OURS ? await readTailMetrics(proxy.url) : undefined;
        figures.get(proxy.name)?.push(runWrk(proxy, path, connections, size));
        if (before) {
          const after = await readTailMetrics(proxy.url);
          tails.push({
            gcMs: (after.gcSeconds - before.gcSeconds) * 1000,
            loopDelayP99Ms: after.loopP99 * 1000,
            loopDelayMaxMs: after.loopMax * 1000,
          });
        }
      }
    }
    printHits(path.slice(9), connections, figures, tails);
  }
}

function printHits(object: string, connections: number, figures: Map<string, HitFigures[]>, tails: TailCauses[]) {
  const ours = figures.get(OURS) ?? [];
  const nginx = figures.get(NGINX);
  console.log(`\n${object}, ${connections} connections`);
  console.log('round | proxy             |    req/s |   MiB/s |  p50 ms |  p99 ms | CPU ms/req');
  const row = (label: string, name: string, figure: HitFigures) =>
    console.log(
      `${label.padEnd(5)} | ${name.padEnd(17)} | ${figure.requestsPerSecond.toFixed(1).padStart(8)} | ${figure.mibPerSecond.toFixed(0).padStart(7)} | ${figure.p50.toFixed(1).padStart(7)} | ${figure.p99.toFixed(1).padStart(7)} | ${figure.cpuMsPerRequest.toFixed(3).padStart(10)}`,
    );
  const summaries = new Map<string, HitFigures>();
  for (const [name, runs] of figures) {
    for (const [round, run] of runs.entries()) row(String(round + 1), name, run);
    summaries.set(name, {
      requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
      mibPerSecond: median(runs.map((run) => run.mibPerSecond)),
      p50: median(runs.map((run) => run.p50)),
      p99: median(runs.map((run) => run.p99)),
      cpuMsPerRequest: median(runs.map((run) => run.cpuMsPerRequest)),
    });
  }
  for (const [name, summary] of summaries) row('med.', name, summary);
  console.log(
    `ours, per round: GC time ${tails.map((tail) => tail.gcMs.toFixed(0)).join(', ')} ms; ` +
      `event-loop delay p99/max ${tails.map((tail) => `${tail.loopDelayP99Ms.toFixed(0)}/${tail.loopDelayMaxMs.toFixed(0)}`).join(', ')} ms (10 ms resolution)`,
  );
  if (!nginx) return;
  const throughputRatios = ours.map((run, round) => run.mibPerSecond / (nginx[round] as HitFigures).mibPerSecond);
  const p99Ratios = ours.map((run, round) => run.p99 / (nginx[round] as HitFigures).p99);
  const oursMedian = summaries.get(OURS) as HitFigures;
  const nginxMedian = summaries.get(NGINX) as HitFigures;
  console.log(
    `=> ${object}: throughput ours/nginx ${median(throughputRatios).toFixed(2)} (median of rounds ${throughputRatios.map((r) => r.toFixed(2)).join(', ')}; of medians ${(oursMedian.mibPerSecond / nginxMedian.mibPerSecond).toFixed(2)}), ` +
      `p99 ours/nginx ${median(p99Ratios).toFixed(2)} (rounds ${p99Ratios.map((r) => r.toFixed(2)).join(', ')}; of medians ${(oursMedian.p99 / nginxMedian.p99).toFixed(2)})`,
  );
}

// ---- (b) a test farm's downloads ---------------------------------------------------------------

interface Trace {
  /** Download paths, in the order the workers ask for them. */
  requests: string[];
  uniqueBytes: number;
  totalBytes: number;
}

/**
 * 12 pushes × 4 platforms × 6 test suites; each suite downloads its build, its test package and the
 * tools. Builds differ per push and platform; a test package is shared by the platforms of one OS
 * and changes every 4 pushes; the tools change every 6 pushes.
 */
function generateTrace(): Trace {
  const next = seededRandom(42);
  const platforms = [
    { name: 'linux64', os: 'linux' },
    { name: 'linux32', os: 'linux' },
    { name: 'win64', os: 'windows' },
    { name: 'macosx64', os: 'mac' },
  ];
  const requests: string[] = [];
  const sizes = new Map<string, number>();
  const pathOf = (name: string, size: number) => {
    const body = bytesFor(name, size);
    const path = `/api/v1/blobs/sha256/${createHash('sha256').update(body).digest('hex')}`;
    if (!sizes.has(path)) {
      objects.set(path.replace('/api/v1/blobs/sha256/', '/blobs/'), body);
      sizes.set(path, size);
    }
    return path;
  };
  let totalBytes = 0;
  for (let push = 0; push < 12; push++) {
    const tools = pathOf(`tools-${Math.floor(push / 6)}`, 2 * MiB);
    for (const platform of platforms) {
      const build = pathOf(`build-${push}-${platform.name}`, Math.round((1 + 2 * next()) * MiB));
      const tests = pathOf(`tests-${platform.os}-${Math.floor(push / 4)}`, 4 * MiB);
      for (let suite = 0; suite < 6; suite++) {
        for (const path of [build, tests, tools]) {
          requests.push(path);
          totalBytes += sizes.get(path) as number;
        }
      }
    }
  }
  const uniqueBytes = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  return { requests, uniqueBytes, totalBytes };
}

/** Replays the trace through a proxy with 16 workers downloading at once, in trace order. */
async function replay(
  proxyUrl: string,
  trace: Trace,
): Promise<{ served: number; fromOrigin: number; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  originBytesSent = 0;
  let served = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < trace.requests.length) {
        const path = trace.requests[next++] as string;
        const bytes = await new Promise<number>((resolve, reject) => {
          get(`${proxyUrl}/artifacts${path}`, { agent }, (res) => {
            let received = 0;
            res.on('data', (chunk: Buffer) => {
              received += chunk.length;
            });
            res.on('end', () =>
              res.statusCode === 200 ? resolve(received) : reject(new Error(`HTTP ${res.statusCode}`)),
            );
            res.on('error', reject);
          }).on('error', reject);
        });
        served += bytes;
      }
    }),
  );
  agent.destroy();
  return { served, fromOrigin: originBytesSent, seconds: (performance.now() - start) / 1000 };
}

async function benchTrace(proxies: Proxy[], trace: Trace): Promise<void> {
  const ideal = 1 - trace.uniqueBytes / trace.totalBytes;
  console.log(
    `\n(b) trace replay: ${trace.requests.length} downloads, ${(trace.totalBytes / MiB).toFixed(0)} MiB in all, ${(trace.uniqueBytes / MiB).toFixed(0)} MiB unique, 16 workers`,
  );
  console.log(
    'proxy             | served MiB | from origin MiB | saved (1 − origin/served) | ideal (1 − unique/total) | seconds',
  );
  for (const proxy of proxies) {
    const { served, fromOrigin, seconds } = await replay(proxy.url, trace);
    console.log(
      `${proxy.name.padEnd(17)} | ${(served / MiB).toFixed(0).padStart(10)} | ${(fromOrigin / MiB).toFixed(0).padStart(15)} | ${(1 - fromOrigin / served).toFixed(4).padStart(25)} | ${ideal.toFixed(4).padStart(24)} | ${seconds.toFixed(1)}`,
    );
  }
}

// ---- run ----------------------------------------------------------------------------------------

console.log(`switchyard proxy on ${describeMachine()}`);
const trace = generateTrace();
const origin: Origin = await startOrigin((req, res) => serveOrigin(req.url ?? '/', res));
const cacheDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-proxy-'));
let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
try {
  const ours = await startProxyProcess({ cacheDir, maxSize: '10GiB', upstreams: [`artifacts=${origin.url}`] });
  const proxies: Proxy[] = [{ name: OURS, url: ours.url, pid: ours.child.pid as number }];
  const canCompare = isInstalled('nginx') && isInstalled('wrk');
  if (canCompare) {
    nginx = await startNginx(origin.url);
    proxies.push({ name: NGINX, url: nginx.url, pid: nginx.process.pid as number });
    console.log(spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim());
    await benchHits(proxies);
  } else {
    console.log('\n(a) skipped: it needs nginx and wrk on this machine (apt-get install -y nginx-light wrk)');
  }
  await benchTrace(proxies, trace);
} finally {
  nginx?.process.kill('SIGTERM');
  await killAll();
  await origin.close();
  rmSync(cacheDir, { recursive: true, force: true });
  if (nginx) rmSync(nginx.dir, { recursive: true, force: true });
}
