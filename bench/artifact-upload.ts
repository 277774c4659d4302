/**
 * Artifact uploads into a real coordinator process: the throughput of one streamed upload
 * (hashed, written to local disk and flushed before the answer) against the disk's own rate
 * (`dd … conv=fdatasync` of as many bytes to the same directory, in the same rounds), and the
 * coordinator's resident memory while it takes a 4 GiB upload.
 *
 *   npm run bench:upload [-- --mib 1024 --runs 3 --big-gib 4 --blob-dir /dev/shm/blobs --built]
 *
 * `--blob-dir` puts the blobs elsewhere than the data directory's disk: on a tmpfs, the figure is
 * the coordinator's own ceiling, without the disk's write bandwidth. `--built` runs the
 * coordinator from `npm run build`'s bundle with plain node, as a deployment would, instead of
 * through tsx (which holds its compiler and the TypeScript sources in memory).
 *
 * Then blobs on S3: a second coordinator with `--blobs s3://…` on moto_server (in memory, on the
 * same machine), and uploads of `--s3-mib` MiB to it and to the first one in alternate rounds:
 * MB/s of each and the S3 coordinator's resident memory, which the multipart upload's parts
 * (4 of 8 MiB in flight) bound whatever the size. `--no-s3` skips it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwitchyardClient } from '@switchyard/protocol';
import { TestFarm } from '../test/helpers/farm.ts';
import { startMoto } from '../test/helpers/moto.ts';
import { freePort, killAll, startServer, type TestServer } from '../test/helpers/processes.ts';
import { describeMachine, percentile, processCpuSeconds } from './machine.ts';
import { flagOption, numberOption, textOption } from './options.ts';

const MIB = numberOption('mib', 1024);
const RUNS = numberOption('runs', 3);
const BIG_GIB = numberOption('big-gib', 4);
const CHUNK = 1024 * 1024;
const BLOB_DIR = textOption('blob-dir');
const BUILT = flagOption('built');
const S3_MIB = numberOption('s3-mib', 256);
const S3 = !flagOption('no-s3');
const BUNDLE = fileURLToPath(new URL('../packages/cli/dist/switchyard.mjs', import.meta.url));

/** The coordinator from the built bundle, run with plain node. */
async function startBuiltServer(config: string, data: string): Promise<{ pid: number; url: string; stop(): void }> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BUNDLE, 'server', '--config', config, '--data', data, '--port', String(port)],
    {
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`${url}/api/v1/server`);
      return { pid: child.pid as number, url, stop: () => child.kill('SIGKILL') };
    } catch {
      if (tries > 300) throw new Error('the built coordinator did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** PUTs `bytes` generated on the fly (a random MiB, its first bytes varied per chunk) and resolves with the answer's status. */
function upload(url: string, bytes: number, headers: Record<string, string>): Promise<number> {
  const chunk = randomBytes(CHUNK);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: { ...headers, 'content-length': String(bytes), expect: '100-continue' },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('continue', () => {
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          const size = Math.min(CHUNK, bytes - sent);
          chunk.writeUInt32LE(sent / CHUNK, 0);
          sent += size;
          // A copy: the chunk buffer is changed again before this one is written out.
          if (!req.write(Buffer.from(chunk.subarray(0, size)))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
  });
}

/**
 * The floor to compare against: a bare node:http server that does only what an upload must —
 * sha256 of the body and a streamed write with fsync — and answers 201.
 */
const BARE_SERVER = `
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
const dir = process.argv[1];
let count = 0;
const server = createServer(async (request, response) => {
  const hash = createHash('sha256');
  const hashing = new Transform({ transform(chunk, _e, done) { hash.update(chunk); done(null, chunk); } });
  request.pipe(hashing);
  await pipeline(hashing, createWriteStream(dir + '/' + ++count, { flush: true }));
  response.writeHead(201).end(hash.digest('hex'));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startBareServer(dir: string): Promise<{ pid: number; url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [port] = (await once(child.stdout, 'data')) as [Buffer];
  return {
    pid: child.pid as number,
    url: `http://127.0.0.1:${port.toString().trim()}`,
    stop: () => child.kill('SIGKILL'),
  };
}

/** The runs of one receiver: MB/s, and MB per CPU-second of the receiving process. */
class Series {
  /** Highest resident memory seen during an upload, MiB. */
  peakRss = 0;

  readonly rates: number[] = [];
  readonly perCpuSecond: number[] = [];

  constructor(
    readonly label: string,
    private readonly pid: number,
    /** Sent with each upload: the coordinator takes one only with the running attempt's credential. */
    private readonly headers: Record<string, string> = {},
  ) {}

  async run(run: number, url: string, mib = MIB): Promise<void> {
    const cpuBefore = processCpuSeconds(this.pid);
    const sampler = setInterval(() => {
      this.peakRss = Math.max(this.peakRss, residentMiB(this.pid).rss);
    }, 50);
    const start = performance.now();
    const status = await upload(url, mib * 2 ** 20, this.headers).finally(() => clearInterval(sampler));
    const seconds = (performance.now() - start) / 1000;
    if (status !== 201) throw new Error(`upload answered ${status}`);
    const cpu = processCpuSeconds(this.pid) - cpuBefore;
    const megabytes = (mib * 2 ** 20) / 1e6;
    this.rates.push(megabytes / seconds);
    this.perCpuSecond.push(megabytes / cpu);
    console.log(
      `${this.label} run ${run}: ${mib} MiB in ${seconds.toFixed(2)} s = ${(megabytes / seconds).toFixed(0)} MB/s; ` +
        `CPU ${cpu.toFixed(2)} s = ${(megabytes / cpu).toFixed(0)} MB per CPU-second`,
    );
  }
}

/**
 * The disk's own rate: `dd` writes as many bytes as an upload to the same directory, flushed
 * once at the end (`conv=fdatasync`), as an upload is before its answer. MB/s.
 */
function measureDisk(dir: string, run: number): number {
  const target = join(dir, 'dd.bin');
  const start = performance.now();
  execFileSync('dd', ['if=/dev/zero', `of=${target}`, 'bs=1M', `count=${MIB}`, 'conv=fdatasync'], { stdio: 'ignore' });
  const seconds = (performance.now() - start) / 1000;
  rmSync(target);
  const rate = (MIB * 2 ** 20) / 1e6 / seconds;
  console.log(`dd conv=fdatasync run ${run}: ${MIB} MiB in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} MB/s`);
  return rate;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

function residentMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

async function main() {
  const farm = new TestFarm();
  farm.writeConfig(`
repos: [{ name: bench, url: $REPO }]
server: { lease_seconds: 3600, max_artifact_bytes: ${(BIG_GIB + 1) * 2 ** 30}${BLOB_DIR ? `, blob_dir: ${BLOB_DIR}` : ''} }
builders:
  - { name: package, repo: bench, pool: bench, checkout: false, steps: [{ name: s, run: "true" }] }
`);
  let server: TestServer | undefined;
  let built: Awaited<ReturnType<typeof startBuiltServer>> | undefined;
  if (BUILT) built = await startBuiltServer(farm.config, farm.data);
  else server = await startServer({ config: farm.config, data: farm.data });
  const pid = built?.pid ?? (server?.child.pid as number);
  const client = new SwitchyardClient({ server: built?.url ?? (server?.url as string) });
  try {
    const push = await client.createPush({ repo: 'bench', branch: 'main', revision: 'abcdef1' });
    const jobId = push.jobs[0]?.id as number;
    // Hold the job running as its worker would, so that it takes uploads.
    const holder = await client.claim('bench-holder', { pool: 'bench', waitSeconds: 5 });
    if (!holder) throw new Error('the bench job was not handed out');
    const asHolder = { authorization: `Bearer ${holder.attemptToken}` };
    const url = (name: string) => `${client.server}/api/v1/jobs/${jobId}/artifacts/${name}`;

    console.log(
      `machine: ${describeMachine()}; coordinator ${BUILT ? 'from the built bundle' : 'through tsx'}; blobs in ${BLOB_DIR ?? `${farm.data}/blobs`}`,
    );
    // Alternating runs, so that both meet the same moments of a shared machine.
    const bareDir = mkdtempSync(join(BLOB_DIR ?? farm.dir, 'bare-'));
    const bare = await startBareServer(bareDir);
    const ours = new Series('coordinator', pid, asHolder);
    const floor = new Series('bare node:http', bare.pid);
    const disk: number[] = [];
    const diskDir = BLOB_DIR ?? farm.data;
    try {
      for (let run = 1; run <= RUNS; run++) {
        await ours.run(run, url(`run-${run}.bin`));
        disk.push(measureDisk(diskDir, run));
        await floor.run(run, `${bare.url}/`);
      }
    } finally {
      bare.stop();
      rmSync(bareDir, { recursive: true, force: true });
    }
    const rate = median(ours.rates);
    const cost = median(ours.perCpuSecond);
    console.log(
      `upload throughput, medians of ${RUNS}: coordinator ${rate.toFixed(0)} MB/s (goal ≥ 500 MB/s), ` +
        `${cost.toFixed(0)} MB per CPU-second (its ceiling on one free core); bare node:http ` +
        `${median(floor.rates).toFixed(0)} MB/s, ${median(floor.perCpuSecond).toFixed(0)} MB per CPU-second; ` +
        `coordinator / bare: ${(rate / median(floor.rates)).toFixed(2)}× the throughput, ` +
        `${(cost / median(floor.perCpuSecond)).toFixed(2)}× the bytes per CPU-second`,
    );
    const roundRatios = ours.rates.map((oursRate, run) => oursRate / (disk[run] as number));
    console.log(
      `against the disk: dd conv=fdatasync median ${median(disk).toFixed(0)} MB/s; coordinator / disk ` +
        `${(rate / median(disk)).toFixed(2)}× (goal ≥ 0.9×); run by run ${roundRatios.map((r) => r.toFixed(2)).join(', ')}, ` +
        `median ${median(roundRatios).toFixed(2)}×`,
    );

    const before = residentMiB(pid);
    let highest = before.rss;
    const sampler = setInterval(() => {
      highest = Math.max(highest, residentMiB(pid).rss);
    }, 50);
    const start = performance.now();
    const status = await upload(url('big.bin'), BIG_GIB * 2 ** 30, asHolder);
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (status !== 201) throw new Error(`the ${BIG_GIB} GiB upload answered ${status}`);
    console.log(
      `${BIG_GIB} GiB upload: ${seconds.toFixed(1)} s (${((BIG_GIB * 2 ** 30) / 1e6 / seconds).toFixed(0)} MB/s); ` +
        `coordinator RSS ${before.rss.toFixed(0)} MiB before, at most ${highest.toFixed(0)} MiB during (goal < 150 MB = 143 MiB)`,
    );
    if (S3) await s3Section(new Series('coordinator, local disk', pid, asHolder), url);
  } finally {
    built?.stop();
    await killAll();
    farm.remove();
    if (BLOB_DIR) rmSync(BLOB_DIR, { recursive: true, force: true });
  }
}

/**
 * Uploads to a coordinator whose blobs are on S3 (moto_server) and to the local-disk one, in
 * alternate rounds of the same size.
 */
async function s3Section(local: Series, localUrl: (name: string) => string): Promise<void> {
  const moto = await startMoto();
  const farm = new TestFarm();
  try {
    await moto.bucket('bench');
    farm.writeConfig(`
repos: [{ name: bench, url: $REPO }]
server: { lease_seconds: 3600, max_artifact_bytes: ${(S3_MIB + 1) * 2 ** 20} }
builders:
  - { name: package, repo: bench, pool: bench, checkout: false, steps: [{ name: s, run: "true" }] }
`);
    const server = await startServer({ config: farm.config, data: farm.data, blobs: 's3://bench/farm', env: moto.env });
    const client = new SwitchyardClient({ server: server.url });
    const push = await client.createPush({ repo: 'bench', branch: 'main', revision: 'abcdef1' });
    const holder = await client.claim('bench-holder', { pool: 'bench', waitSeconds: 5 });
    if (!holder) throw new Error('the S3 bench job was not handed out');
    const s3 = new Series('coordinator, S3 (moto)', server.child.pid as number, {
      authorization: `Bearer ${holder.attemptToken}`,
    });
    const s3Url = (name: string) => `${server.url}/api/v1/jobs/${push.jobs[0]?.id}/artifacts/${name}`;
    const rssBefore = residentMiB(server.child.pid as number).rss;
    for (let run = 1; run <= RUNS; run++) {
      await s3.run(run, s3Url(`s3-${run}.bin`), S3_MIB);
      await local.run(run, localUrl(`local-${run}.bin`), S3_MIB);
    }
    const s3Rate = median(s3.rates);
    console.log(
      `S3 against local disk, ${S3_MIB} MiB uploads, medians of ${RUNS}: S3 (moto) ${s3Rate.toFixed(0)} MB/s, ` +
        `local disk ${median(local.rates).toFixed(0)} MB/s, S3 / local ${(s3Rate / median(local.rates)).toFixed(2)}×; ` +
        `S3 coordinator ${median(s3.perCpuSecond).toFixed(0)} MB per CPU-second, ` +
        `RSS ${rssBefore.toFixed(0)} MiB before, at most ${s3.peakRss.toFixed(0)} MiB during`,
    );
  } finally {
    await moto.stop();
    farm.remove();
  }
}

await main();
