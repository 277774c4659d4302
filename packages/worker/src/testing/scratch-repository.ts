import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Commits need an author; the machine running the tests may have none configured. */
const AUTHOR_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.org',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.org',
};

/** Runs git or hg in `cwd` and returns what it printed, trimmed. */
export function run(cwd: string, program: string, ...args: string[]): string {
  return execFileSync(program, args, { cwd, env: AUTHOR_ENV, encoding: 'utf8' }).trim();
}

/** Writes files (null: deletes the file) into a working tree. */
function writeFiles(repo: string, files: Record<string, string | null>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(repo, name);
    if (content === null) {
      rmSync(path);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

/** Commits the files to a git repository's current branch; returns the new commit's id. */
export function gitCommit(repo: string, files: Record<string, string | null>): string {
  writeFiles(repo, files);
  run(repo, 'git', 'add', '-A');
  run(repo, 'git', 'commit', '--quiet', '--allow-empty', '-m', 'change');
  return run(repo, 'git', 'rev-parse', 'HEAD');
}

/** Commits the files to a Mercurial repository; returns the new changeset's id. */
export function hgCommit(repo: string, files: Record<string, string | null>): string {
  writeFiles(repo, files);
  run(repo, 'hg', 'commit', '--quiet', '--addremove', '-u', 'test', '-m', 'change');
  return run(repo, 'hg', 'log', '-r', '.', '--template', '{node}');
}
