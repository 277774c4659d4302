import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { gitCommit, hgCommit, run } from '../testing/scratch-repository.ts';
import { CheckoutRefused, type CheckoutRequest, checkout } from './index.ts';

let dir: string;
let source: string;
let storeDir: string;
let url: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkout-'));
  storeDir = join(dir, 'store');
  source = join(dir, 'source');
  run(dir, 'git', 'init', '--quiet', '--initial-branch=main', source);
  url = `file://${source}`;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function commit(files: Record<string, string | null>): string {
  return gitCommit(source, files);
}

function options(revision: string, dest: string, extra: Partial<CheckoutRequest> = {}): CheckoutRequest {
  return { storeDir, url, revision, dest, retryDelayMs: 10, ...extra };
}

function storesOf(kind: string): string[] {
  const root = join(storeDir, kind);
  return existsSync(root) ? readdirSync(root).filter((name) => !name.includes('.')) : [];
}

describe('git', () => {
  test('successive checkouts into one tree are pristine, and unchanged files are not rewritten', async () => {
    const first = commit({
      '.gitignore': 'obj/\n',
      'a.txt': 'a1',
      'keep.txt': 'keep',
      'gone.txt': 'gone',
      'd/x.txt': 'x',
    });
    const tree = join(dir, 'tree');
    const cold = await checkout(options(first, tree));
    expect(cold).toMatchObject({ createdStore: true, fetched: true, recovered: [] });
    const keepInode = statSync(join(tree, 'keep.txt')).ino;

    // What a job leaves behind: output, an ignored build dir, a changed and a deleted tracked file.
    writeFileSync(join(tree, 'untracked.txt'), 'left over');
    mkdirSync(join(tree, 'obj'));
    writeFileSync(join(tree, 'obj', 'out.o'), 'build output');
    writeFileSync(join(tree, 'a.txt'), 'modified by the job');
    rmSync(join(tree, 'd', 'x.txt'));
    const second = commit({ 'gone.txt': null, 'new.txt': 'new' });

    const warm = await checkout(options(second, tree));
    expect(warm).toMatchObject({ createdStore: false, fetched: true, storeKey: cold.storeKey });
    expect(run(tree, 'git', 'rev-parse', 'HEAD')).toBe(second);
    expect(run(tree, 'git', 'status', '--porcelain', '--ignored')).toBe('');
    expect(existsSync(join(tree, 'untracked.txt'))).toBe(false);
    expect(existsSync(join(tree, 'obj'))).toBe(false);
    expect(existsSync(join(tree, 'gone.txt'))).toBe(false);
    expect(readFileSync(join(tree, 'a.txt'), 'utf8')).toBe('a1');
    expect(readFileSync(join(tree, 'd', 'x.txt'), 'utf8')).toBe('x');
    expect(readFileSync(join(tree, 'new.txt'), 'utf8')).toBe('new');
    expect(statSync(join(tree, 'keep.txt')).ino).toBe(keepInode);
    for (const phase of ['fetchMs', 'checkoutMs', 'cleanMs', 'lockMs', 'totalMs'] as const) {
      expect(warm.timings[phase]).toBeGreaterThanOrEqual(0);
    }

    // The store has it now: going back needs no network.
    const back = await checkout(options(first, tree));
    expect(back.fetched).toBe(false);
    expect(readFileSync(join(tree, 'gone.txt'), 'utf8')).toBe('gone');
  });

  test('two URLs of one repository share its store, keyed by the root commit', async () => {
    const root = commit({ 'a.txt': 'a' });
    const head = commit({ 'b.txt': 'b' });
    await checkout(options(head, join(dir, 't1')));
    const report = await checkout(options(head, join(dir, 't2'), { url: `file://${join(source, '.git')}` }));
    expect(report.storeKey).toBe(root);
    expect(storesOf('git')).toEqual([root]);
    expect(run(join(dir, 't2'), 'git', 'rev-parse', 'HEAD')).toBe(head);
  });

  test('a revision on no branch is fetched by its id', async () => {
    const base = commit({ 'a.txt': 'a' });
    run(source, 'git', 'checkout', '--quiet', '-b', 'topic');
    const topic = commit({ 't.txt': 'topic' });
    run(source, 'git', 'checkout', '--quiet', 'main');
    await checkout(options(base, join(dir, 'tree')));
    run(source, 'git', 'branch', '--quiet', '-D', 'topic');
    await checkout(options(topic, join(dir, 'tree')));
    expect(readFileSync(join(dir, 'tree', 't.txt'), 'utf8')).toBe('topic');
  });

  test('a revision the repository does not have is a clear error', async () => {
    commit({ 'a.txt': 'a' });
    const missing = checkout(options('0123456789abcdef0123456789abcdef01234567', join(dir, 'tree')));
    await expect(missing).rejects.toThrow(/revision 0123456789abcdef0123456789abcdef01234567 is not in file:/);
    await expect(missing).rejects.toBeInstanceOf(CheckoutRefused);
    const short = checkout(options('abcdef1', join(dir, 'tree')));
    await expect(short).rejects.toThrow(/not a full git commit id/);
    await expect(short).rejects.toBeInstanceOf(CheckoutRefused);
  });

  test('two processes checking out of one cold store at once both get their tree, from one store', async () => {
    const revision = commit({ 'a.txt': 'a', 'b/c.txt': 'c' });
    const cli = join(import.meta.dirname, '..', '..', '..', 'cli', 'bin', 'switchyard.js');
    const runs = ['p1', 'p2', 'p3'].map(
      (name) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            [cli, 'checkout', '--store', storeDir, '--repo', url, '--rev', revision, '--dest', join(dir, name)],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.on('close', (code) => resolve({ code, stderr }));
        }),
    );
    const results = await Promise.all(runs);
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(results.filter((result) => result.stderr.includes('new store')).length).toBe(1);
    expect(storesOf('git')).toHaveLength(1);
    for (const name of ['p1', 'p2', 'p3']) {
      expect(run(join(dir, name), 'git', 'rev-parse', 'HEAD')).toBe(revision);
      expect(readFileSync(join(dir, name, 'b', 'c.txt'), 'utf8')).toBe('c');
    }
  });

  test('a damaged store is deleted and made again', async () => {
    const first = commit({ 'a.txt': 'a' });
    const tree = join(dir, 'tree');
    // A plain path, which git would clone by hard-linking the objects unless told not to.
    const { storePath } = await checkout(options(first, tree, { url: source }));
    for (const object of walk(join(storePath, 'objects'))) {
      if (!/objects\/([0-9a-f]{2}\/|pack\/.*\.pack$)/.test(object)) continue;
      // In place, as a failing disk would: a file shared by hard link would be damaged on both sides.
      chmodSync(object, 0o644);
      writeFileSync(object, 'garbage');
    }
    const second = commit({ 'b.txt': 'b' });
    const lines: string[] = [];
    const report = await checkout(
      options(second, join(dir, 'other'), { url: source, log: (line) => lines.push(line) }),
    );
    expect(report.recovered).toEqual(['damaged-store']);
    expect(report.createdStore).toBe(true);
    expect(lines.join('\n')).toMatch(/damaged/);
    expect(run(join(dir, 'other'), 'git', 'rev-parse', 'HEAD')).toBe(second);
    expect(run(storePath, 'git', 'fsck', '--no-progress')).toBe('');
    // The damage stayed in the store: the repository it was fetched from shares no file with it.
    expect(run(source, 'git', 'fsck', '--no-progress')).toBe('');
    // The old tree belonged to the deleted store: it is replaced, not trusted.
    await checkout(options(second, tree));
    expect(run(tree, 'git', 'status', '--porcelain', '--ignored')).toBe('');
  });

  test("a store whose fetch was killed (its lock's holder is dead) is deleted and made again", async () => {
    const revision = commit({ 'a.txt': 'a' });
    const { storePath } = await checkout(options(revision, join(dir, 'tree')));
    const deadPid = spawnSync('true').pid as number;
    mkdirSync(`${storePath}.lock`);
    writeFileSync(
      join(`${storePath}.lock`, 'owner.json'),
      JSON.stringify({
        pid: deadPid,
        host: hostname(),
        boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        purpose: 'fetch',
        since: new Date().toISOString(),
      }),
    );
    const report = await checkout(options(revision, join(dir, 'tree')));
    expect(report.recovered).toContain('abandoned-store');
    expect(report.createdStore).toBe(true);
    expect(run(join(dir, 'tree'), 'git', 'rev-parse', 'HEAD')).toBe(revision);
  });

  test('sparse checkouts hold only their directories, and a full one brings the rest back', async () => {
    const revision = commit({ 'top.txt': 't', 'src/a.txt': 'a', 'docs/b.txt': 'b', 'deep/er/c.txt': 'c' });
    const tree = join(dir, 'tree');
    await checkout(options(revision, tree, { sparse: ['src'] }));
    expect(readdirSync(tree).sort()).toEqual(['.git', 'src', 'top.txt']);
    await checkout(options(revision, tree));
    expect(readdirSync(tree).sort()).toEqual(['.git', 'deep', 'docs', 'src', 'top.txt']);
  });

  test("a job's own tree settings do not outlive it; its sparse settings are the checkout's", async () => {
    const revision = commit({ 'src/a.txt': 'a', 'docs/b.txt': 'b' });
    const tree = join(dir, 'tree');
    await checkout(options(revision, tree, { sparse: ['src'] }));
    run(tree, 'git', 'config', '--worktree', 'core.fsmonitor', 'touch /nonexistent/fsmonitor-ran');
    run(tree, 'git', 'config', '--worktree', 'core.autocrlf', 'true');
    await checkout(options(revision, tree, { sparse: ['src'] }));
    expect(run(tree, 'git', 'config', '--worktree', '--list')).not.toMatch(/fsmonitor|autocrlf/);
    expect(run(tree, 'git', 'config', '--worktree', 'core.sparseCheckout')).toBe('true');
    expect(readdirSync(tree).sort()).toEqual(['.git', 'src']);
  });

  test('a shallow checkout fetches only `depth` commits, into a store of its own', async () => {
    commit({ 'a.txt': '1' });
    commit({ 'a.txt': '2' });
    const head = commit({ 'a.txt': '3' });
    const tree = join(dir, 'tree');
    const report = await checkout(options(head, tree, { depth: 1 }));
    expect(report.storePath).toContain(join('store', 'git-shallow'));
    expect(run(tree, 'git', 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  test('a server that refuses (HTTP 403) is not asked again', async () => {
    const { createServer } = await import('node:http');
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      response.writeHead(403).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const lines: string[] = [];
    try {
      const refused = checkout(
        options('0123456789abcdef0123456789abcdef01234567', join(dir, 'tree'), {
          url: `http://127.0.0.1:${port}/repo.git`,
          log: (line) => lines.push(line),
        }),
      );
      await expect(refused).rejects.toThrow(/403/);
      expect(lines.filter((line) => line.includes('network failure'))).toEqual([]);
      expect(requests).toBe(1);
    } finally {
      server.close();
    }
  });

  test('network failures are tried again with backoff, then reported', async () => {
    const lines: string[] = [];
    const revision = '0123456789abcdef0123456789abcdef01234567';
    const failed = checkout(
      options(revision, join(dir, 'tree'), {
        url: 'http://127.0.0.1:9/nothing.git',
        networkAttempts: 3,
        log: (line) => lines.push(line),
      }),
    );
    await expect(failed).rejects.toThrow(/unable to access|Failed to connect/i);
    // The server was never reached: that says nothing against the revision, so it is not refused.
    await expect(failed).rejects.not.toBeInstanceOf(CheckoutRefused);
    expect(lines.filter((line) => line.includes('network failure'))).toHaveLength(2);
  });
});

const hgInstalled = spawnSync('hg', ['--version']).status === 0;
if (!hgInstalled && process.env.SWITCHYARD_REQUIRE_HG === '1') {
  throw new Error('SWITCHYARD_REQUIRE_HG=1 but `hg` is not installed (Debian: apt-get install mercurial)');
}

describe.runIf(hgInstalled)('hg', () => {
  test('successive checkouts into one share are pristine, from a store keyed by revision 0', async () => {
    const repo = join(dir, 'hgsource');
    run(dir, 'hg', 'init', repo);
    const first = hgCommit(repo, { '.hgignore': 'syntax: glob\nobj/\n', 'a.txt': 'a1', 'gone.txt': 'gone' });
    const hgUrl = `file://${repo}`;
    const tree = join(dir, 'tree');
    const cold = await checkout(options(first, tree, { vcs: 'hg', url: hgUrl }));
    expect(cold).toMatchObject({ createdStore: true, storeKey: first });
    writeFileSync(join(tree, 'untracked.txt'), 'left over');
    mkdirSync(join(tree, 'obj'));
    writeFileSync(join(tree, 'obj', 'out.o'), 'output');
    writeFileSync(join(tree, 'a.txt'), 'modified');
    const second = hgCommit(repo, { 'gone.txt': null, 'new.txt': 'new' });
    const warm = await checkout(options(second, tree, { vcs: 'hg', url: hgUrl }));
    expect(warm).toMatchObject({ createdStore: false, fetched: true, storeKey: first });
    expect(run(tree, 'hg', 'log', '-r', '.', '--template', '{node}')).toBe(second);
    expect(run(tree, 'hg', 'status', '--unknown', '--ignored', '--modified', '--deleted')).toBe('');
    expect(existsSync(join(tree, 'obj'))).toBe(false);
    expect(existsSync(join(tree, 'gone.txt'))).toBe(false);
    expect(readFileSync(join(tree, 'a.txt'), 'utf8')).toBe('a1');
    // A second URL of the same repository uses the same store.
    const again = await checkout(options(second, join(dir, 'tree2'), { vcs: 'hg', url: repo }));
    expect(again).toMatchObject({ createdStore: false, fetched: false, storeKey: first });
    expect(storesOf('hg')).toEqual([first]);
  });

  test('hooks a job wrote into its share or the store are gone before the next checkout runs hg', async () => {
    const repo = join(dir, 'hgsource');
    run(dir, 'hg', 'init', repo);
    const first = hgCommit(repo, { 'a.txt': 'a' });
    const tree = join(dir, 'tree');
    const { storePath } = await checkout(options(first, tree, { vcs: 'hg', url: repo }));
    const marker = join(dir, 'hook-ran');
    const hook = `[hooks]\npre-update = touch ${marker}\npre-pull = touch ${marker}\n`;
    writeFileSync(join(tree, '.hg', 'hgrc'), hook);
    writeFileSync(join(storePath, '.hg', 'hgrc'), hook);
    const second = hgCommit(repo, { 'b.txt': 'b' });
    await checkout(options(second, tree, { vcs: 'hg', url: repo }));
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(tree, 'b.txt'), 'utf8')).toBe('b');
  });

  test('a damaged store is deleted and cloned again, and the repository it came from is untouched', async () => {
    const repo = join(dir, 'hgsource');
    run(dir, 'hg', 'init', repo);
    const first = hgCommit(repo, { 'a.txt': 'a' });
    // A plain path: hg would hard-link the revlogs of a local clone unless told to pull.
    const { storePath } = await checkout(options(first, join(dir, 'tree'), { vcs: 'hg', url: repo }));
    for (const revlog of walk(join(storePath, '.hg', 'store', 'data'))) {
      chmodSync(revlog, 0o644);
      writeFileSync(revlog, 'garbage');
    }
    const second = hgCommit(repo, { 'b.txt': 'b' });
    const report = await checkout(options(second, join(dir, 'other'), { vcs: 'hg', url: repo }));
    expect(report.recovered).toEqual(['damaged-store']);
    expect(readFileSync(join(dir, 'other', 'a.txt'), 'utf8')).toBe('a');
    expect(run(repo, 'hg', 'verify', '--quiet')).toBe('');
  });
});

function* walk(path: string): Generator<string> {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}
