/**
 * Start-up of the client commands: how long `switchyard <command>` takes from spawn until it has
 * answered (exited; `watch`: printed its first event) against a coordinator on this machine,
 * median and p90 of --runs each, as installed:
 *
 * - `checkout`: packages/cli/bin/switchyard.js in this checkout after `npm install`, which runs the
 *   build (the bench builds it, and again, off the clock, whenever a source changed since);
 * - `package`: the worker package (`npm run package`) installed with `npm install -g` into a
 *   temporary prefix, as on a build machine;
 * - `npx`: `npx switchyard` in this checkout;
 *
 * beside floors: `node -e 0`, `git --version`, `npx --version`, and `npx semver 1.2.3` (npx
 * running a small local bin). Goal: under 150 ms median installed, and through npx no more than
 * npx's own start-up on top of that.
 *
 *   npm run bench:cli [-- --runs 15]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildIsCurrent } from '../packages/cli/bin/build-is-current.js';
import { waitForPushFinal } from '../test/helpers/events.ts';
import { killAll, startWorker } from '../test/helpers/processes.ts';
import { describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';
import { startTrivialFarm } from './trivial-farm.ts';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = numberOption('runs', 15);
const NPM_CLI = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

/** Milliseconds from spawning `command args` until it exits, or until its output includes `until`. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv, until?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let answeredAt: number | undefined;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (until && answeredAt === undefined && output.includes(until)) {
        answeredAt = performance.now();
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (until ? answeredAt === undefined : code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`));
      } else {
        resolve((answeredAt ?? performance.now()) - started);
      }
    });
  });
}

function summary(samples: number[]): string {
  if (samples.length === 0) return '';
  const sorted = [...samples].sort((a, b) => a - b);
  return `${percentile(sorted, 50).toFixed(0)} (${percentile(sorted, 90).toFixed(0)})`;
}

console.log(`# switchyard start-up, ${RUNS} runs each: median (p90) ms\n# ${describeMachine()}`);
/**
 * The checkout's bin runs the build only while no source is newer: in a checkout others edit, a
 * source saved during the bench would have it time tsx. Build again then, off the clock.
 */
let builds = 0;
async function buildCurrent(): Promise<void> {
  for (let tries = 0; !buildIsCurrent(); tries++) {
    if (tries === 3) throw new Error('the sources keep changing: the build is never current');
    await run('npx', ['tsup'], { cwd: ROOT });
    builds++;
  }
}

const scratch = await mkdtemp(join(tmpdir(), 'switchyard-cli-bench-'));
const { stdout: packaged } = await run('npm', ['run', '--silent', 'package', '--', '--out', scratch], { cwd: ROOT });
const prefix = join(scratch, 'prefix');
await mkdir(prefix);
await run(
  process.execPath,
  [NPM_CLI, 'install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund'].concat([
    packaged.trim().split('\n').at(-1)!,
  ]),
  { cwd: scratch },
);

const { server, revision, remove } = await startTrivialFarm();
const first = await server.client.createPush({ repo: 'bench', branch: 'main', revision });
const worker = startWorker({ server: server.url, name: 'bench-1', pool: 'bench', workDir: join(scratch, 'work') });
await waitForPushFinal(server.client, first.id);
await worker.kill();
const finished = String(first.jobs[0]!.id);
const env = { ...process.env, SWITCHYARD_SERVER: server.url, NO_COLOR: '1' };

const installs = {
  checkout: [process.execPath, join(ROOT, 'packages', 'cli', 'bin', 'switchyard.js')],
  package: [process.execPath, join(prefix, 'bin', 'switchyard')],
  npx: ['npx', 'switchyard'],
} as const;
type Install = keyof typeof installs;

interface Case {
  name: string;
  /** The arguments for one run; cancel gets a job of its own to cancel, made before the clock starts. */
  args: () => Promise<string[]>;
  until?: string;
  /** Through npx too. */
  npx?: boolean;
}
const CASES: Case[] = [
  { name: '--help', args: async () => ['--help'], npx: true },
  { name: 'push', args: async () => ['push', '--repo', 'bench', '--branch', 'main', '--rev', revision] },
  { name: 'status', args: async () => ['status'], npx: true },
  { name: 'logs', args: async () => ['logs', finished] },
  { name: 'watch', args: async () => ['watch', '--since', '0'], until: 'push.created' },
  {
    name: 'cancel',
    args: async () => {
      const push = await server.client.createPush({ repo: 'bench', branch: 'main', revision });
      return ['cancel', String(push.jobs[0]!.id)];
    },
  },
  { name: 'retrigger', args: async () => ['retrigger', finished] },
  { name: 'stats', args: async () => ['stats', 'builders'] },
];
const FLOORS: [string, string[]][] = [
  ['node -e 0', [process.execPath, '-e', '0']],
  ['git --version', ['git', '--version']],
  ['npx --version', ['npx', '--version']],
  // What npx costs to run any local bin: it reads the workspace's package tree, which --version doesn't.
  ['npx semver 1.2.3', ['npx', 'semver', '1.2.3']],
];

const samples = new Map<string, number[]>();
const record = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
try {
  // Round after round, so that a busy moment of the machine costs every command alike.
  for (let round = 0; round < RUNS; round++) {
    for (const [name, [command, ...args]] of FLOORS) record(name, await timed(command!, args, env));
    for (const testCase of CASES) {
      for (const install of Object.keys(installs) as Install[]) {
        if (install === 'npx' && !testCase.npx) continue;
        const [command, ...base] = installs[install];
        if (install !== 'package') await buildCurrent();
        record(
          `${testCase.name} ${install}`,
          await timed(command, [...base, ...(await testCase.args())], env, testCase.until),
        );
      }
    }
  }
} finally {
  await killAll();
  await remove();
  await rm(scratch, { recursive: true, force: true });
}

const rows = [
  ['', 'checkout', 'package', 'npx'],
  ...FLOORS.map(([name]) => [name, summary(samples.get(name) ?? []), '', '']),
  ...CASES.map((c) => [
    c.name,
    ...(Object.keys(installs) as Install[]).map((install) => summary(samples.get(`${c.name} ${install}`) ?? [])),
  ]),
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
for (const row of rows)
  console.log(
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
if (builds > 1) console.log(`(the checkout was built ${builds} times: its sources changed during the bench)`);
