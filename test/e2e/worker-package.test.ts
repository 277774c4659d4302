import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, type TestServer } from '../helpers/processes.ts';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// npm as installed beside node (Debian's nodejs package, NodeSource, nvm): run by node itself, so
// nothing but node need be on the machine's PATH.
const NPM_CLI = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

const CONFIG = `
repos:
  - name: demo
    url: $REPO
builders:
  - name: build
    repo: demo
    pool: packaged
    steps:
      - name: compile
        run: ./build.sh
`;

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('the worker package, installed the documented way on a machine with only Node', () => {
  const farm = new TestFarm();
  const machine = join(farm.dir, 'machine');
  const prefix = join(machine, 'prefix');
  const switchyard = join(prefix, 'bin', 'switchyard');
  // The machine's PATH while installing: node alone, so no compiler (nor python, nor make) could be used.
  const nodeOnly = join(machine, 'node-only');
  let env: NodeJS.ProcessEnv;
  let server: TestServer;
  let worker: ChildProcess;
  let workerOutput = '';

  beforeAll(async () => {
    expect(existsSync(NPM_CLI), `npm beside node at ${NPM_CLI}`).toBe(true);
    const { stdout } = await run('npm', ['run', '--silent', 'package', '--', '--out', join(farm.dir, 'packages')], {
      cwd: ROOT,
    });
    const tarball = stdout.trim().split('\n').at(-1)!;
    expect(tarball).toMatch(/switchyard-worker-[0-9.]+\.tgz$/);

    for (const dir of [nodeOnly, join(machine, 'home'), join(machine, 'empty')]) await mkdir(dir, { recursive: true });
    await symlink(process.execPath, join(nodeOnly, 'node'));
    // env -i, as a fresh login would have it: no NODE_PATH, nothing of this checkout.
    env = { PATH: nodeOnly, HOME: join(machine, 'home') };
    await run(
      process.execPath,
      [NPM_CLI, 'install', '--global', '--prefix', prefix, '--offline', '--cache', join(machine, 'npm-cache')].concat([
        '--no-audit',
        '--no-fund',
        tarball,
      ]),
      { cwd: join(machine, 'empty'), env },
    );

    farm.writeConfig(CONFIG);
    server = await startServer({ config: farm.config, data: farm.data });
    // Running steps takes git (the checkout) and a shell, as on any build machine.
    env = { ...env, PATH: `${join(prefix, 'bin')}:${nodeOnly}:/usr/bin:/bin` };
    worker = spawn(
      switchyard,
      [
        'worker',
        '--server',
        server.url,
        '--name',
        'packaged-1',
        '--pool',
        'packaged',
        '--work-dir',
        join(machine, 'work'),
      ],
      { cwd: join(machine, 'empty'), env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    worker.stdout?.on('data', (d: Buffer) => {
      workerOutput += d.toString();
    });
    worker.stderr?.on('data', (d: Buffer) => {
      workerOutput += d.toString();
    });
  }, 300_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await killAll();
    farm.remove();
  });

  it('installs one package, of plain JavaScript: no dependency, no native module', async () => {
    const installed = join(prefix, 'lib', 'node_modules');
    expect(await readdir(installed)).toEqual(['switchyard-worker']);
    const files = await filesUnder(join(installed, 'switchyard-worker'));
    expect(files.filter((f) => !/^dist\/[\w-]+\.mjs$/.test(f)).sort()).toEqual(['package.json']);
  });

  it('runs a job pushed with its own client commands', async () => {
    const revision = farm.commit('main', { 'build.sh': '#!/bin/sh\necho "built by the packaged worker"\n' });
    const cli = (...args: string[]) =>
      run(switchyard, [...args, '--server', server.url], { cwd: join(machine, 'empty'), env });
    const push = await cli('push', '--repo', 'demo', '--branch', 'main', '--rev', revision, '--wait').catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`push failed:\n${error.stdout}${error.stderr}\nworker:\n${workerOutput}`);
      },
    );
    expect(push.stdout).toMatch(/build .*success/);

    const [job] = (await server.client.getPush(1)).jobs;
    const detail = await server.client.getJob(job!.id);
    expect(detail).toMatchObject({ state: 'success', attempts: [{ worker: 'packaged-1' }] });
    const log = await cli('logs', String(job!.id));
    expect(log.stdout).toContain('built by the packaged worker');
  });
});
