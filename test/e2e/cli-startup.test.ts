import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Packages no client command needs: the coordinator's, the worker's, the demo's, and every schema (TypeBox). */
const HEAVY = [
  'typebox',
  'fastify',
  '@fastify',
  'better-sqlite3',
  'kysely',
  'pg',
  'pino',
  'yaml',
  'ws',
  'prom-client',
  'openpgp',
  'tar',
  'yauzl',
  'tsx',
];

/** Records every module the process resolves, in the file $MODULE_LOG names. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`;
const REGISTER = `
import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url), { data: { log: process.env.MODULE_LOG } });
`;

/** The packages under node_modules that the modules in `log` come from. */
function packagesIn(log: string): string[] {
  const names = readFileSync(log, 'utf8')
    .split('\n')
    .map((url) => url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1])
    .filter((name) => name !== undefined);
  return [...new Set(names)].sort();
}

describe('client commands of the built command load only what they need', () => {
  const farm = new TestFarm();
  // Inside the checkout, where the build's packages resolve from node_modules as they do for dist/.
  let dist: string;
  let server: TestServer;
  let jobId: number;
  let revision: string;
  let runs = 0;

  beforeAll(async () => {
    // The build `npm install` makes, into a directory of this test's own.
    await mkdir(join(ROOT, 'node_modules', '.cache'), { recursive: true });
    dist = await mkdtemp(join(ROOT, 'node_modules', '.cache', 'switchyard-cli-build-'));
    await run('npx', ['tsup', '--out-dir', dist], { cwd: ROOT });
    writeFileSync(join(farm.dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(farm.dir, 'register.mjs'), REGISTER);
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: build, repo: demo, pool: linux, checkout: false, steps: [{ name: say, run: "echo hello from the build" }] }
`);
    revision = farm.commit('main', { 'a.txt': 'a\n' });
    server = await startServer({ config: farm.config, data: farm.data });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const worker = startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    await waitForPushFinal(server.client, push.id);
    await worker.kill();
    jobId = push.jobs[0]!.id;
  }, 180_000);

  afterAll(async () => {
    await killAll();
    farm.remove();
    if (dist) await rm(dist, { recursive: true, force: true });
  });

  /** Runs the built `switchyard args` (until `until` is printed, for commands that go on), and the packages it loaded. */
  async function loaded(args: string[], until?: string): Promise<string[]> {
    const log = join(farm.dir, `modules-${++runs}.log`);
    writeFileSync(log, '');
    const child = spawn(
      process.execPath,
      ['--import', join(farm.dir, 'register.mjs'), join(dist, 'switchyard.mjs'), ...args],
      { env: { ...process.env, MODULE_LOG: log, SWITCHYARD_SERVER: server.url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (until && output.includes(until)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const [code] = await once(child, 'exit');
    if (!until) expect(code, `switchyard ${args.join(' ')}:\n${output}`).toBe(0);
    return packagesIn(log);
  }

  it.each([
    ['--help', ['--help']],
    ['push', ['push', '--repo', 'demo', '--branch', 'main', '--rev', 'REVISION']],
    ['status', ['status']],
    ['logs', ['logs', 'JOB']],
    ['retrigger', ['retrigger', 'JOB']],
    ['cancel', ['cancel', 'NEWEST']],
    ['stats', ['stats', 'builders']],
  ])('%s', async (_, template) => {
    const newest = Math.max(...(await server.client.listPushes({ limit: 1 }))[0]!.jobs.map((job) => job.id));
    const args = template.map((arg) =>
      arg === 'REVISION' ? revision : arg === 'JOB' ? String(jobId) : arg === 'NEWEST' ? String(newest) : arg,
    );
    const packages = await loaded(args);
    expect(packages).toContain('commander');
    expect(packages.filter((name) => HEAVY.includes(name.split('/')[0]!))).toEqual([]);
  });

  it('watch', async () => {
    const packages = await loaded(['watch', '--since', '0'], 'push.created');
    expect(packages.filter((name) => HEAVY.includes(name.split('/')[0]!))).toEqual([]);
  });
});
