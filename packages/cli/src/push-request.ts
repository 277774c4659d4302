import type { CreatePushRequest } from '@switchyard/protocol';
import { CliError } from './errors.ts';
import { currentBranch, describeCommit, isInsideCheckout } from './git.ts';

export interface PushFlags {
  repo: string;
  branch?: string;
  rev?: string;
  author?: string;
  message?: string;
  /** This exact revision must be built: its jobs are never coalesced into newer ones. */
  exact?: boolean;
}

/**
 * The push to announce: the flags given, with the rest taken from the git checkout in `cwd`
 * (current branch, HEAD, its author, subject and changed files).
 */
export async function resolvePushRequest(flags: PushFlags, cwd: string): Promise<CreatePushRequest> {
  if (!(await isInsideCheckout(cwd))) {
    if (!flags.branch || !flags.rev) {
      throw new CliError('not inside a git checkout: pass --branch and --rev (and --author, --message if you like)');
    }
    return {
      repo: flags.repo,
      branch: flags.branch,
      revision: flags.rev,
      author: flags.author,
      message: flags.message,
      ...exactFlag(flags),
    };
  }
  const branch = flags.branch ?? (await currentBranch(cwd));
  if (!branch) throw new CliError('HEAD is detached: pass --branch to say which branch this revision is on');
  const commit = await describeCommit(cwd, flags.rev ?? 'HEAD');
  return {
    repo: flags.repo,
    branch,
    revision: commit.revision,
    author: flags.author ?? commit.author,
    message: flags.message ?? commit.message,
    files: commit.files,
    ...exactFlag(flags),
  };
}

function exactFlag(flags: PushFlags): Pick<CreatePushRequest, 'exact'> {
  return flags.exact ? { exact: true } : {};
}
