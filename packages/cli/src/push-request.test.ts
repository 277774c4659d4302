import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { git } from './git.ts';
import { resolvePushRequest } from './push-request.ts';

let dir: string;
const identity = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

async function commit(files: Record<string, string>, subject: string): Promise<string> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  await git(['add', '--all'], { cwd: dir });
  await git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', subject], { cwd: dir, env: identity });
  return git(['rev-parse', 'HEAD'], { cwd: dir });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-push-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolvePushRequest', () => {
  test('outside a checkout, --branch and --rev are required', async () => {
    await expect(resolvePushRequest({ repo: 'demo' }, dir)).rejects.toThrow(
      'not inside a git checkout: pass --branch and --rev',
    );
    await expect(resolvePushRequest({ repo: 'demo', branch: 'main', rev: 'abc1234' }, dir)).resolves.toEqual({
      repo: 'demo',
      branch: 'main',
      revision: 'abc1234',
      author: undefined,
      message: undefined,
    });
    await expect(
      resolvePushRequest({ repo: 'demo', branch: 'main', rev: 'abc1234', exact: true }, dir),
    ).resolves.toMatchObject({ exact: true });
  });

  describe('inside a checkout', () => {
    beforeEach(async () => {
      await git(['init', '--quiet', '--initial-branch=main'], { cwd: dir });
    });

    test('takes the branch, revision, author, subject and changed files from git', async () => {
      await commit({ 'README.md': 'hello\n' }, 'First');
      const revision = await commit({ 'a.txt': 'a\n', 'b.txt': 'b\n' }, 'Add a and b\n\nWith a body.');
      expect(await resolvePushRequest({ repo: 'demo' }, dir)).toEqual({
        repo: 'demo',
        branch: 'main',
        revision,
        author: 'Ada Lovelace <ada@example.com>',
        message: 'Add a and b',
        files: ['a.txt', 'b.txt'],
      });
    });

    test('lists the files of a first commit too', async () => {
      await commit({ 'README.md': 'hello\n' }, 'First');
      expect((await resolvePushRequest({ repo: 'demo' }, dir)).files).toEqual(['README.md']);
    });

    test('flags win over git, and --rev may be any name git knows', async () => {
      const first = await commit({ 'README.md': 'hello\n' }, 'First');
      await commit({ 'a.txt': 'a\n' }, 'Second');
      const request = await resolvePushRequest(
        { repo: 'demo', branch: 'release/1.0', rev: 'HEAD~1', author: 'Grace', message: 'Hotfix' },
        dir,
      );
      expect(request).toMatchObject({ branch: 'release/1.0', revision: first, author: 'Grace', message: 'Hotfix' });
    });

    test('a detached HEAD needs --branch', async () => {
      const revision = await commit({ 'README.md': 'hello\n' }, 'First');
      await git(['checkout', '--quiet', '--detach', revision], { cwd: dir });
      await expect(resolvePushRequest({ repo: 'demo' }, dir)).rejects.toThrow('HEAD is detached: pass --branch');
    });

    test('a commit this checkout does not hold is pushed exactly as the flags say, with nothing from git', async () => {
      await commit({ 'README.md': 'hello\n' }, 'Unrelated');
      const elsewhere = 'c0ffee0c0ffee0c0ffee0c0ffee0c0ffee0c0ff';
      expect(
        await resolvePushRequest({ repo: 'demo', branch: 'release/2.0', rev: elsewhere, author: 'Grace' }, dir),
      ).toEqual({ repo: 'demo', branch: 'release/2.0', revision: elsewhere, author: 'Grace', message: undefined });
    });

    test('an unknown --rev without --branch asks for both', async () => {
      await commit({ 'README.md': 'hello\n' }, 'First');
      await expect(resolvePushRequest({ repo: 'demo', rev: 'c0ffee0' }, dir)).rejects.toThrow(
        'no commit c0ffee0 in this checkout: pass --branch and --rev',
      );
    });

    test('an unknown --rev is named', async () => {
      await commit({ 'README.md': 'hello\n' }, 'First');
      await expect(resolvePushRequest({ repo: 'demo', rev: 'no-such-thing' }, dir)).rejects.toThrow(
        'no commit no-such-thing in this checkout',
      );
    });
  });
});
