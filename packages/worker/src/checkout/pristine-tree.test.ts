import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { gitCommit, run } from '../testing/scratch-repository.ts';
import { type CheckoutRequest, checkout } from './index.ts';

/** What a job can leave in its tree that `git clean` and a forced checkout don't see by themselves. */

let dir: string;
let storeDir: string;
let source: string;
let tree: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pristine-tree-'));
  storeDir = join(dir, 'store');
  source = join(dir, 'source');
  tree = join(dir, 'tree');
  run(dir, 'git', 'init', '--quiet', '--initial-branch=main', source);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function options(revision: string, extra: Partial<CheckoutRequest> = {}): CheckoutRequest {
  return { storeDir, url: `file://${source}`, revision, dest: tree, retryDelayMs: 10, ...extra };
}

describe('git', () => {
  test('a file the job hid from git (skip-worktree, assume-unchanged) is restored, and the flags are gone', async () => {
    const revision = gitCommit(source, { 'etc/config.json': '{}', 'docs/b.txt': 'b', 'src/c.txt': 'c' });
    await checkout(options(revision));
    run(tree, 'git', 'update-index', '--skip-worktree', 'etc/config.json');
    writeFileSync(join(tree, 'etc/config.json'), '{"local": true}');
    run(tree, 'git', 'update-index', '--assume-unchanged', 'docs/b.txt');

    await checkout(options(revision));
    expect(readFileSync(join(tree, 'etc/config.json'), 'utf8')).toBe('{}');
    expect(run(tree, 'git', 'ls-files', '-v').split('\n')).toEqual([
      'H docs/b.txt',
      'H etc/config.json',
      'H src/c.txt',
    ]);

    // A sparse tree keeps the skip-worktree flags of what lies outside it, and only those.
    run(tree, 'git', 'update-index', '--assume-unchanged', 'src/c.txt');
    await checkout(options(revision, { sparse: ['src'] }));
    expect(run(tree, 'git', 'ls-files', '-v').split('\n')).toEqual([
      'S docs/b.txt',
      'S etc/config.json',
      'H src/c.txt',
    ]);
  });

  test('a submodule the job checked out is left empty, as a fresh clone has it', async () => {
    const library = join(dir, 'library');
    run(dir, 'git', 'init', '--quiet', '--initial-branch=main', library);
    gitCommit(library, { 'lib.c': 'int lib;' });
    run(source, 'git', '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', `file://${library}`, 'lib');
    const revision = gitCommit(source, { 'main.c': 'int main;' });
    await checkout(options(revision));
    expect(readdirSync(join(tree, 'lib'))).toEqual([]);

    // The job checks the submodule out, changes a file in it and builds there.
    run(tree, 'git', '-c', 'protocol.file.allow=always', 'submodule', 'update', '--init', '--quiet');
    writeFileSync(join(tree, 'lib', 'lib.c'), 'changed by the job');
    writeFileSync(join(tree, 'lib', 'lib.o'), 'build output');

    await checkout(options(revision));
    expect(readdirSync(join(tree, 'lib'))).toEqual([]);
    expect(run(tree, 'git', 'status', '--porcelain', '--ignored')).toBe('');
  });

  test('emptying a submodule never follows a link the job put on its way out of the tree', async () => {
    const library = join(dir, 'library');
    run(dir, 'git', 'init', '--quiet', '--initial-branch=main', library);
    gitCommit(library, { 'lib.c': 'int lib;' });
    run(
      source,
      'git',
      '-c',
      'protocol.file.allow=always',
      'submodule',
      'add',
      '--quiet',
      `file://${library}`,
      'vendor/lib',
    );
    const revision = gitCommit(source, { 'main.c': 'int main;' });
    await checkout(options(revision));
    run(tree, 'git', '-c', 'protocol.file.allow=always', 'submodule', 'update', '--init', '--quiet');
    const outside = join(dir, 'outside');
    renameSync(join(tree, 'vendor'), outside);
    symlinkSync(outside, join(tree, 'vendor'));

    await checkout(options(revision));
    expect(readFileSync(join(outside, 'lib', 'lib.c'), 'utf8')).toBe('int lib;');
    expect(lstatSync(join(tree, 'vendor')).isDirectory()).toBe(true);
    expect(run(tree, 'git', 'status', '--porcelain', '--ignored')).toBe('');
  });

  test('a git lock file a killed job left in the tree costs neither the store nor the tree', async () => {
    const revision = gitCommit(source, { 'a.txt': 'a' });
    const first = await checkout(options(revision));
    const admin = run(tree, 'git', 'rev-parse', '--absolute-git-dir');
    writeFileSync(join(admin, 'index.lock'), '');
    writeFileSync(join(tree, 'a.txt'), 'changed');

    const lines: string[] = [];
    const report = await checkout(options(revision, { log: (line) => lines.push(line) }));
    expect(report, lines.join('\n')).toMatchObject({ createdStore: false, recovered: [], storePath: first.storePath });
    expect(readFileSync(join(tree, 'a.txt'), 'utf8')).toBe('a');
    expect(existsSync(join(admin, 'index.lock'))).toBe(false);
  });

  test('a shallow job gets the history it asks for, even after a shallower job fetched its revision', async () => {
    for (const n of [1, 2, 3, 4, 5]) gitCommit(source, { 'n.txt': String(n) });
    const head = run(source, 'git', 'rev-parse', 'HEAD');
    await checkout(options(head, { depth: 1 }));
    expect(run(tree, 'git', 'rev-list', '--count', 'HEAD')).toBe('1');
    const deeper = await checkout(options(head, { depth: 3 }));
    expect(deeper.fetched).toBe(true);
    expect(run(tree, 'git', 'rev-list', '--count', 'HEAD')).toBe('3');
    // Asking for more than there is takes all there is, and then nothing more is fetched.
    await checkout(options(head, { depth: 50 }));
    expect(run(tree, 'git', 'rev-list', '--count', 'HEAD')).toBe('5');
    expect((await checkout(options(head, { depth: 50 }))).fetched).toBe(false);
  });

  test("settings a job wrote into the store through its tree don't change how later trees are written", async () => {
    const revision = gitCommit(source, { 'text.txt': 'line 1\nline 2\n', 'data.dat': 'a\nb\n' });
    await checkout(options(revision));
    // `git config` in a tree writes the store's config, which every tree of the store reads.
    run(tree, 'git', 'config', 'core.autocrlf', 'true');
    const common = run(tree, 'git', 'rev-parse', '--git-common-dir');
    mkdirSync(join(common, 'info'), { recursive: true });
    writeFileSync(join(common, 'info', 'attributes'), '*.dat eol=crlf\n');
    const other = join(dir, 'other');
    await checkout(options(revision, { dest: other }));
    expect(readFileSync(join(other, 'text.txt'), 'utf8')).toBe('line 1\nline 2\n');
    expect(readFileSync(join(other, 'data.dat'), 'utf8')).toBe('a\nb\n');
    expect(run(other, 'git', 'config', '--default', 'unset', 'core.autocrlf')).toBe('unset');
  });
});
