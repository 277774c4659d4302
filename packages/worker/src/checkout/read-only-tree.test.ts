import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';

/**
 * A job can leave directories it can't write: Go makes its module cache read-only, and any build
 * may `chmod -R a-w`. Root writes through that, so the checkouts here run as an ordinary user:
 * `nobody` when the tests run as root, whoever runs them otherwise.
 */
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const CLI = join(import.meta.dirname, '..', '..', '..', 'cli', 'bin', 'switchyard.js');
const hgInstalled = spawnSync('hg', ['--version']).status === 0;
/** `nobody` must be able to read the CLI: not so in a checkout under a private home directory. */
const canRunAsUser =
  !asRoot || spawnSync(process.execPath, [CLI, '--version'], { uid: NOBODY, gid: NOBODY }).status === 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'read-only-tree-'));
});
afterEach(() => {
  if (existsSync(dir)) execFileSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
});

/** Hands everything in the scratch directory to the user the checkouts run as. */
function handOver(): void {
  if (asRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
}

function switchyardCheckout(...args: string[]): { code: number | null; output: string } {
  handOver();
  const result = spawnSync(process.execPath, [CLI, 'checkout', '--store', join(dir, 'store'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOME: dir },
    ...(asRoot && { uid: NOBODY, gid: NOBODY }),
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** What `go mod download` leaves: a tree of directories nobody may write, not even their owner. */
function leaveReadOnlyOutput(tree: string): void {
  mkdirSync(join(tree, 'gopath', 'pkg', 'mod', 'example.org', 'lib'), { recursive: true });
  writeFileSync(join(tree, 'gopath', 'pkg', 'mod', 'example.org', 'lib', 'lib.go'), 'package lib');
  handOver();
  execFileSync('chmod', ['-R', 'a-w', join(tree, 'gopath')]);
}

function gitRepository(): { url: string; revision: string } {
  const source = join(dir, 'source');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: source, encoding: 'utf8' }).trim();
  mkdirSync(source);
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(source, 'main.go'), 'package main');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '--quiet', '-m', 'main');
  return { url: `file://${source}`, revision: git('rev-parse', 'HEAD') };
}

describe.runIf(canRunAsUser)('a tree with directories the job made read-only', () => {
  test('git: cleaned all the same, job after job', async () => {
    const { url, revision } = gitRepository();
    const tree = join(dir, 'tree');
    const args = ['--repo', url, '--rev', revision, '--dest', tree];
    const first = switchyardCheckout(...args);
    expect(first.code, first.output).toBe(0);
    leaveReadOnlyOutput(tree);

    const second = switchyardCheckout(...args);
    expect(second.code, second.output).toBe(0);
    expect(existsSync(join(tree, 'gopath'))).toBe(false);
    expect(readFileSync(join(tree, 'main.go'), 'utf8')).toBe('package main');
  });

  test('a tree deleted because its last checkout was killed is deleted all the same', async () => {
    const { url, revision } = gitRepository();
    const tree = join(dir, 'tree');
    const args = ['--repo', url, '--rev', revision, '--dest', tree];
    expect(switchyardCheckout(...args).code).toBe(0);
    leaveReadOnlyOutput(tree);
    const lock = `${tree}.checkout-lock`;
    mkdirSync(lock);
    const deadPid = spawnSync('true').pid as number;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(
      join(lock, 'owner.json'),
      JSON.stringify({ pid: deadPid, host: hostname(), boot, purpose: 'checkout', since: new Date().toISOString() }),
    );

    const again = switchyardCheckout(...args);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('abandoned-tree');
    expect(existsSync(join(tree, 'gopath'))).toBe(false);
  });

  test.runIf(hgInstalled)('hg: purged all the same', async () => {
    const source = join(dir, 'hgsource');
    execFileSync('hg', ['init', source]);
    writeFileSync(join(source, 'main.go'), 'package main');
    execFileSync('hg', ['commit', '--quiet', '--addremove', '-u', 'test', '-m', 'main'], { cwd: source });
    const revision = execFileSync('hg', ['log', '-r', '.', '--template', '{node}'], { cwd: source, encoding: 'utf8' });
    const tree = join(dir, 'tree');
    const args = ['--vcs', 'hg', '--repo', `file://${source}`, '--rev', revision, '--dest', tree];
    const first = switchyardCheckout(...args);
    expect(first.code, first.output).toBe(0);
    leaveReadOnlyOutput(tree);

    const second = switchyardCheckout(...args);
    expect(second.code, second.output).toBe(0);
    expect(existsSync(join(tree, 'gopath'))).toBe(false);
  });
});
