import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type CheckoutRequest, checkout } from './index.ts';

/** What a job can leave in its tree that `git clean` and a forced checkout don't see by themselves. */

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.org',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.org',
};

function run(cwd: string, program: string, ...args: string[]): string {
  return execFileSync(program, args, { cwd, env: ENV, encoding: 'utf8' }).trim();
}

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

function commit(repo: string, files: Record<string, string>): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, name)), { recursive: true });
    writeFileSync(join(repo, name), content);
  }
  run(repo, 'git', 'add', '-A');
  run(repo, 'git', 'commit', '--quiet', '-m', 'change');
  return run(repo, 'git', 'rev-parse', 'HEAD');
}

function options(revision: string, extra: Partial<CheckoutRequest> = {}): CheckoutRequest {
  return { storeDir, url: `file://${source}`, revision, dest: tree, retryDelayMs: 10, ...extra };
}

describe('git', () => {
  test('a git lock file a killed job left in the tree costs neither the store nor the tree', async () => {
    const revision = commit(source, { 'a.txt': 'a' });
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
});
