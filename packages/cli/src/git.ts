import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CliError } from './errors.ts';

const execFileAsync = promisify(execFile);

export interface GitOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs git and returns its trimmed output; a failure carries git's own message. */
export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new CliError('git is not installed (or not on PATH)');
    const detail = failure.stderr?.trim() || failure.message;
    throw new CliError(`git ${args[0]} failed: ${detail}`);
  }
}

export async function isInsideCheckout(cwd: string): Promise<boolean> {
  try {
    return (await git(['rev-parse', '--is-inside-work-tree'], { cwd })) === 'true';
  } catch {
    return false;
  }
}

/** The checked-out branch, or null on a detached HEAD. */
export async function currentBranch(cwd: string): Promise<string | null> {
  const branch = await git(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd });
  return branch === 'HEAD' ? null : branch;
}

export interface CommitDescription {
  revision: string;
  author: string;
  message: string;
  files: string[];
}

/** The checkout has no commit of that name. */
export class CommitNotFound extends CliError {
  constructor(revision: string) {
    super(`no commit ${revision} in this checkout`);
  }
}

/** What a push says about a commit: its full id, `Name <email>`, subject and changed files. */
export async function describeCommit(cwd: string, revision: string): Promise<CommitDescription> {
  const fullRevision = await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { cwd }).catch(() => {
    throw new CommitNotFound(revision);
  });
  const [author, message, files] = await Promise.all([
    git(['log', '-1', '--format=%an <%ae>', fullRevision], { cwd }),
    git(['log', '-1', '--format=%s', fullRevision], { cwd }),
    git(['diff-tree', '--root', '--no-commit-id', '--name-only', '-r', fullRevision], { cwd }),
  ]);
  return { revision: fullRevision, author, message, files: files ? files.split('\n') : [] };
}
