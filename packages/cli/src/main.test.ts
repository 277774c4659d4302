import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchyardClient } from '@switchyard/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { git } from './git.ts';
import { runCli, startCli } from './testing/run-cli.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A port nothing listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const FARM = `repos:
  - name: demo
    url: /srv/git/demo.git
builders:
  - name: build
    repo: demo
    pool: linux
    steps:
      - name: compile
        run: make
  - name: test
    repo: demo
    pool: macos
    after: build
    steps:
      - name: check
        run: make check
`;

describe('switchyard, run as a process', () => {
  test('an unreachable coordinator is one line naming it, and exit 1', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await runCli(['status', '--server', server]);
    expect(stderr).toBe(`error: cannot reach the coordinator at ${server} (is \`switchyard server\` running?)\n`);
    expect(stdout).toBe('');
    expect(code).toBe(1);
  });

  test('an API error is its message, status and code', async () => {
    const api = createHttpServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'not-found', message: 'job 5 does not exist', details: {} } }));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => api.once('listening', resolve));
    try {
      const { port } = api.address() as AddressInfo;
      const { code, stderr } = await runCli(['status', '--job', '5', '--server', `http://127.0.0.1:${port}`]);
      expect(stderr).toBe('error: job 5 does not exist (HTTP 404 not-found)\n');
      expect(code).toBe(1);
    } finally {
      api.close();
    }
  });

  test('a malformed --tag is refused before anything starts', async () => {
    const { code, stderr } = await runCli(['worker', '--pool', 'linux', '--work-dir', dir, '--tag', 'gpu']);
    expect(stderr).toContain("option '--tag <key=value>' argument 'gpu' is invalid. expected key=value");
    expect(code).toBe(1);
  });

  test('push outside a git checkout asks for --branch and --rev', async () => {
    const { code, stderr } = await runCli(['push', '--repo', 'demo'], { cwd: dir });
    expect(stderr).toBe(
      'error: not inside a git checkout: pass --branch and --rev (and --author, --message if you like)\n',
    );
    expect(code).toBe(1);
  });

  test('push with every flag, run inside an unrelated git checkout, announces exactly the flags', async () => {
    const config = join(dir, 'switchyard.yml');
    await writeFile(config, FARM);
    const server = startCli(['server', '--config', config, '--data', join(dir, 'data'), '--port', '0']);
    try {
      await server.waitFor(' (Ctrl-C stops it)');
      const url = /listening on (http:\/\/\S+)/.exec(server.stderr())?.[1] as string;
      const hook = join(dir, 'other-project');
      await mkdir(hook);
      await git(['init', '--quiet', '--initial-branch=trunk'], { cwd: hook });
      await writeFile(join(hook, 'README.md'), 'another project\n');
      await git(['add', 'README.md'], { cwd: hook });
      const someoneElse = ['-c', 'user.name=Someone Else', '-c', 'user.email=else@example.org'];
      await git([...someoneElse, '-c', 'commit.gpgsign=false', 'commit', '-qm', 'Other'], { cwd: hook });
      const revision = '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed';
      const flags = ['--repo', 'demo', '--branch', 'release/1.0', '--rev', revision, '--server', url];
      const { code, stdout, stderr } = await runCli(
        ['push', ...flags, '--author', 'Ada <ada@example.com>', '--message', 'Fix'],
        { cwd: hook },
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const pushId = Number(/^push (\d+)/.exec(stdout)?.[1]);
      const push = await new SwitchyardClient({ server: url }).getPush(pushId);
      expect(push).toMatchObject({
        repo: 'demo',
        branch: 'release/1.0',
        revision,
        author: 'Ada <ada@example.com>',
        message: 'Fix',
        files: [],
      });
    } finally {
      server.child.kill('SIGINT');
      await server.exited;
    }
  });

  test('validate summarises a valid config', async () => {
    const config = join(dir, 'switchyard.yml');
    await writeFile(config, FARM);
    const { code, stdout } = await runCli(['validate', config]);
    expect(stdout).toBe(`${config} is valid: 1 repo, 2 builders (pools: linux, macos)\n`);
    expect(code).toBe(0);
  });

  test('validate shows what is wrong with an invalid config, and exits 1', async () => {
    const config = join(dir, 'switchyard.yml');
    await writeFile(config, FARM.replace('pool: macos', 'pool: 7 macs'));
    const { code, stdout, stderr } = await runCli(['validate', config]);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: /);
    expect(stderr).toContain(config);
    expect(code).toBe(1);
  });

  test('server serves until SIGINT, then closes and exits 0', async () => {
    const config = join(dir, 'switchyard.yml');
    await writeFile(config, FARM);
    const server = startCli(['server', '--config', config, '--data', join(dir, 'data'), '--port', '0']);
    await server.waitFor('switchyard coordinator listening on http://127.0.0.1:');
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  });

  test('demo on a busy port says so, suggests --port, and leaves its directory alone', async () => {
    const busy = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => busy.once('listening', resolve));
    try {
      const { port } = busy.address() as AddressInfo;
      const demoDir = join(dir, 'demo');
      const { code, stderr } = await runCli(['demo', '--port', String(port), '--dir', demoDir]);
      expect(stderr).toBe(
        `error: port ${port} on 127.0.0.1 is already in use (another switchyard?): choose another with --port\n`,
      );
      expect(code).toBe(1);
      await expect(readdir(demoDir)).rejects.toThrow('ENOENT');
    } finally {
      busy.close();
    }
  });

  test('demo refuses to delete a directory it did not make', async () => {
    await writeFile(join(dir, 'precious.txt'), 'keep me');
    const { code, stderr } = await runCli(['demo', '--port', '0', '--dir', dir]);
    expect(stderr).toContain('was not made by `switchyard demo`: remove it or choose another --dir');
    expect(code).toBe(1);
    expect(await readdir(dir)).toEqual(['precious.txt']);
  });
});
