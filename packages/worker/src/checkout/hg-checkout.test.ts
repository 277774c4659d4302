import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { hgCommit, run } from '../testing/scratch-repository.ts';
import { CheckoutRefused, checkout } from './index.ts';

const hgInstalled = spawnSync('hg', ['--version']).status === 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hg-checkout-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test.runIf(hgInstalled)(
  'a revision the repository does not have is refused, as for git: retrying would not help',
  async () => {
    const repo = join(dir, 'source');
    run(dir, 'hg', 'init', repo);
    hgCommit(repo, { 'a.txt': 'a' });
    const missing = checkout({
      storeDir: join(dir, 'store'),
      url: `file://${repo}`,
      revision: '0123456789abcdef0123456789abcdef01234567',
      dest: join(dir, 'tree'),
      vcs: 'hg',
      retryDelayMs: 10,
    });
    await expect(missing).rejects.toThrow(/revision 0123456789abcdef0123456789abcdef01234567 is not in file:/);
    await expect(missing).rejects.toBeInstanceOf(CheckoutRefused);
  },
);
