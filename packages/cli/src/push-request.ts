import type { CreatePushRequest } from '@switchyard/protocol';
import { CliError } from './errors.ts';
import { type CommitDescription, CommitNotFound, currentBranch, describeCommit, isInsideCheckout } from './git.ts';

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
 * The push to announce: the flags given, always as given, with the rest filled in from the git
 * checkout in `cwd` (current branch, HEAD, its author, subject and changed files) — but only
 * when that checkout holds the commit. A hook of another repository or a CI script may well run
 * inside a checkout that has nothing to do with the pushed one, and must not be stopped by it.
 */
export async function resolvePushRequest(flags: PushFlags, cwd: string): Promise<CreatePushRequest> {
  const inside = await isInsideCheckout(cwd);
  const commit = inside ? await heldCommit(cwd, flags.rev ?? 'HEAD') : null;
  if (commit === null) {
    if (!flags.branch || !flags.rev) {
      const why = inside ? `no commit ${flags.rev ?? 'HEAD'} in this checkout` : 'not inside a git checkout';
      throw new CliError(`${why}: pass --branch and --rev (and --author, --message if you like)`);
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

/** The commit `revision` names in the checkout; null when the checkout has no such commit. */
async function heldCommit(cwd: string, revision: string): Promise<CommitDescription | null> {
  return describeCommit(cwd, revision).catch((error: unknown) => {
    if (error instanceof CommitNotFound) return null;
    throw error;
  });
}

function exactFlag(flags: PushFlags): Pick<CreatePushRequest, 'exact'> {
  return flags.exact ? { exact: true } : {};
}
