import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.org',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.org',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

/**
 * A scratch farm for one test file: a temporary directory with a real git repository (bare, as
 * a server holds it, plus a work tree to commit from), a data directory and worker directories.
 */
export class TestFarm {
  readonly dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  readonly bare = join(this.dir, 'repo.git');
  readonly work = join(this.dir, 'work');
  readonly data = join(this.dir, 'data');
  readonly config = join(this.dir, 'switchyard.yml');

  constructor() {
    git(this.dir, 'init', '--quiet', '--bare', '--initial-branch=main', this.bare);
    git(this.dir, 'init', '--quiet', '--initial-branch=main', this.work);
    git(this.work, 'remote', 'add', 'origin', this.bare);
  }

  /** Commits files (executable when their name ends in .sh) on a branch and pushes it; returns the sha. */
  commit(branch: string, files: Record<string, string>, message = 'change'): string {
    const current = git(this.work, 'symbolic-ref', '--short', 'HEAD');
    if (current !== branch) {
      const exists = git(this.work, 'branch', '--list', branch) !== '';
      git(this.work, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch]));
    }
    for (const [name, content] of Object.entries(files)) {
      const path = join(this.work, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      if (name.endsWith('.sh')) chmodSync(path, 0o755);
    }
    git(this.work, 'add', '-A');
    git(this.work, 'commit', '--quiet', '--allow-empty', '-m', message);
    git(this.work, 'push', '--quiet', 'origin', branch);
    return git(this.work, 'rev-parse', 'HEAD');
  }

  writeConfig(yaml: string): string {
    writeFileSync(this.config, yaml.replaceAll('$REPO', this.bare));
    return this.config;
  }

  workerDir(name: string): string {
    return join(this.dir, 'workers', name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
