import { mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { HeldLock } from '../file-lock.ts';
import { CheckoutRefused } from './checkout-refused.ts';
import type { CheckoutReport, PhaseTimer, ResolvedCheckout } from './index.ts';
import { type CheckoutPass, StoreCheckout } from './store-checkout.ts';
import { urlHash } from './store-layout.ts';
import { isDamage, isNetworkFailure, redactUrl, VcsCommandError, vcsSucceeds } from './vcs-command.ts';

/**
 * Every git command on a store or tree: no hooks (a repository's hooks are not ours to run),
 * no detached-HEAD lecture, and automatic gc in the foreground, so it runs under our lock.
 */
const GIT_SETTINGS = ['-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false', '-c', 'gc.autoDetach=false'];

/** A copy of the store's config as it was made, beside it (git reads no file of that name). */
const SETTINGS_AS_MADE = 'switchyard-config';

interface LockedStore extends CheckoutPass {
  /** Held until the tree is registered in the store. */
  lock: HeldLock;
}

/**
 * Git: a bare store per repository (keyed by its root commit, so two URLs of one repository
 * share it) and the tree as a worktree of it. A worktree shares the store's objects safely:
 * gc in the store keeps what any worktree's HEAD and index need, unlike `--shared` or
 * `--reference`, whose borrowers break when the store is gc'd.
 */
export function gitCheckout(request: ResolvedCheckout, timer: PhaseTimer): Promise<CheckoutReport> {
  return new GitCheckout(request, timer).run();
}

class GitCheckout extends StoreCheckout {
  protected readonly program = 'git';

  protected async checkoutOnce(): Promise<CheckoutPass> {
    const { lock, ...store } = await this.storeWithRevision();
    const tree = await this.holding(lock, () => this.registerTree(store.storePath));
    await this.updateTree(tree);
    return store;
  }

  private async storeWithRevision(): Promise<LockedStore> {
    const { url, depth } = this.request;
    if (depth !== undefined) return this.shallowStore(urlHash(url));
    for (;;) {
      const key = await this.layout.knownKey('git', url);
      if (key === null) {
        const discovered = await this.discoverStore();
        if (discovered) return discovered;
        continue;
      }
      const path = this.layout.storePath('git', key);
      this.storePath = path;
      const lock = await this.lockGitStore(path);
      const found = await this.releasingOnError(lock, async (): Promise<LockedStore | null> => {
        if (await this.layout.isFinished(path, 'git', key)) {
          const fetched = await this.fetchIfMissing(path);
          return { storeKey: key, storePath: path, createdStore: false, fetched, lock };
        }
        // Recorded but gone or unfinished: find it again from scratch.
        await this.layout.forgetKey('git', url);
        return null;
      });
      if (found) return found;
      await lock.release();
    }
  }

  /**
   * First sight of a URL: fetch it into a temporary store to learn its root commit. If a store
   * of that repository exists (the same repository at another URL), the objects move over
   * locally and the temporary one goes; otherwise it becomes the store. Null: someone else
   * finished discovering this URL while we waited, so look again.
   */
  private async discoverStore(): Promise<LockedStore | null> {
    const { url, log, revision } = this.request;
    const discoveryLock = await this.lock(
      this.layout.discoveryLockPath('git', url),
      `first fetch of ${redactUrl(url)}`,
    );
    return this.holding(discoveryLock, async () => {
      if ((await this.layout.knownKey('git', url)) !== null) return null;
      const temporary = this.layout.discoveryPath('git', url);
      this.storePath = temporary;
      await this.layout.remove(temporary);
      log(`new store: cloning ${redactUrl(url)}`);
      await this.cloneStore(temporary);
      await this.fetchIfMissing(temporary);
      const key = await this.rootCommit(temporary);
      const path = this.layout.storePath('git', key);
      const lock = await this.lockGitStore(path);
      return this.releasingOnError(lock, async () => {
        let createdStore = false;
        if (await this.layout.isFinished(path, 'git', key)) {
          log(`${redactUrl(url)} is repository ${key.slice(0, 12)}, already in the store: adding what it fetched`);
          this.storePath = path;
          await this.git(path, ['fetch', '--quiet', '--no-tags', '--', temporary, '+refs/*:refs/*']);
          if (!(await this.hasRevision(path))) await this.git(path, ['fetch', '--quiet', '--', temporary, revision]);
          await this.layout.remove(temporary);
        } else {
          await this.layout.remove(path);
          await this.layout.markFinished(temporary, { kind: 'git', key, createdAt: new Date().toISOString() });
          await rename(temporary, path);
          this.storePath = path;
          createdStore = true;
        }
        await this.layout.rememberKey('git', url, key);
        return { storeKey: key, storePath: path, createdStore, fetched: true, lock };
      });
    });
  }

  /** A shallow store can't know its root commit: it is keyed by its URL and holds only `depth` of history. */
  private async shallowStore(key: string): Promise<LockedStore> {
    const path = this.layout.storePath('git-shallow', key);
    this.storePath = path;
    const lock = await this.lockGitStore(path);
    return this.releasingOnError(lock, async () => {
      let createdStore = false;
      if (!(await this.layout.isFinished(path, 'git-shallow', key))) {
        await this.layout.remove(path);
        await this.initStore(path);
        await this.layout.markFinished(path, { kind: 'git-shallow', key, createdAt: new Date().toISOString() });
        createdStore = true;
      }
      const fetched = await this.fetchIfMissing(path);
      return { storeKey: key, storePath: path, createdStore, fetched, lock };
    });
  }

  /**
   * Locks a store, and puts back the settings it was made with: `git config` in a tree writes the
   * store's config (and `.git/info/attributes` is the store's), which every later checkout of
   * every tree of it would obey — `core.autocrlf`, a filter, a command to run.
   */
  private async lockGitStore(path: string): Promise<HeldLock> {
    const lock = await this.lockStore(path);
    return this.releasingOnError(lock, async () => {
      const made = await readFile(join(path, SETTINGS_AS_MADE), 'utf8').catch(() => null);
      const config = join(path, 'config');
      if (made !== null && (await readFile(config, 'utf8')) !== made) {
        this.request.log(`the store's settings were changed (by a job, through its tree): putting them back`);
        await writeFile(config, made);
      }
      await rm(join(path, 'info', 'attributes'), { force: true });
      return lock;
    });
  }

  private async initStore(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await this.vcs(['init', '--quiet', '--bare', path]);
    await configureStore(path);
  }

  /**
   * A new store by `git clone --bare`, not init and fetch: a clone checks the pack it receives
   * while indexing it, where a fetch walks every object again afterwards (half a second on a
   * 50,000-file repository). Never `--local`: from a path that would hard-link the store's
   * objects to the server's, and damage to one would be damage to both. The clone's branches
   * then move to this URL's namespace, and its remote goes, so no URL (nor a password in one)
   * stays in the store's config.
   */
  private async cloneStore(path: string): Promise<void> {
    const { url } = this.request;
    await mkdir(dirname(path), { recursive: true });
    await this.timer.time('fetchMs', () =>
      this.networkVcs('clone', [
        ...GIT_SETTINGS,
        'clone',
        '--bare',
        '--no-local',
        '--quiet',
        '--no-tags',
        '--',
        url,
        path,
      ]),
    );
    const namespace = `refs/remotes/${urlHash(url)}/heads/`;
    const { stdout } = await this.git(path, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/']);
    const moves = stdout
      .split('\n')
      .filter((line) => line.length > 0)
      .flatMap((line) => {
        const [sha, ref] = line.split(' ') as [string, string];
        return [`create ${namespace}${ref.slice('refs/heads/'.length)} ${sha}`, `delete ${ref} ${sha}`];
      });
    if (moves.length > 0) await this.git(path, ['update-ref', '--stdin'], `${moves.join('\n')}\n`);
    await configureStore(path);
  }

  /**
   * Brings the revision into the store unless it is there: the URL's branches and tags (what
   * the next jobs will likely want; a shallow store skips them), then the revision itself if
   * no branch holds it. Returns whether the network was used.
   */
  private async fetchIfMissing(path: string): Promise<boolean> {
    const { url, revision, depth, log } = this.request;
    if (await this.hasWantedHistory(path)) {
      log(`store has ${revision.slice(0, 12)}: nothing to fetch`);
      return false;
    }
    const started = this.timer.timings.fetchMs;
    await this.timer.time('fetchMs', async () => {
      if (depth === undefined) {
        const namespace = `refs/remotes/${urlHash(url)}`;
        await this.networkGit(path, [
          'fetch',
          '--quiet',
          '--no-tags',
          '--prune',
          '--',
          url,
          `+refs/heads/*:${namespace}/heads/*`,
          `+refs/tags/*:${namespace}/tags/*`,
        ]);
      }
      if (await this.hasWantedHistory(path)) return;
      const shallow = depth === undefined ? [] : [`--depth=${depth}`];
      await this.networkGit(path, ['fetch', '--quiet', '--no-tags', ...shallow, '--', url, revision]).catch(
        (error: unknown) => {
          if (error instanceof VcsCommandError && !isDamage(error) && !isNetworkFailure(error)) {
            throw new CheckoutRefused(`revision ${revision} is not in ${redactUrl(url)}: ${error.message}`);
          }
          throw error;
        },
      );
      if (!(await this.hasRevision(path)))
        throw new CheckoutRefused(`revision ${revision} is not in ${redactUrl(url)}`);
    });
    log(`fetched ${revision.slice(0, 12)} from ${redactUrl(url)} in ${this.timer.timings.fetchMs - started} ms`);
    return true;
  }

  /**
   * The revision and, for a shallow job, `depth` commits of its history, or all there is: a
   * shallow store is shared by every depth of its URL, and a shallower job may have fetched the
   * revision first. A fetch with the larger depth deepens it, as a fresh clone would have it.
   */
  private async hasWantedHistory(path: string): Promise<boolean> {
    const { depth, revision } = this.request;
    if (!(await this.hasRevision(path))) return false;
    if (depth === undefined) return true;
    const { stdout } = await this.git(path, ['rev-list', '--count', `--max-count=${depth}`, revision]);
    // No `shallow` file: no history was cut short, so fewer commits are all there are.
    return Number(stdout.trim()) >= depth || !(await this.layout.exists(join(path, 'shallow')));
  }

  private hasRevision(path: string): Promise<boolean> {
    return vcsSucceeds({
      program: 'git',
      args: ['-C', path, 'cat-file', '-e', `${this.request.revision}^{commit}`],
      signal: this.request.signal,
    });
  }

  /** The root the revision's first-parent line starts from: the same for every URL of the repository. */
  private async rootCommit(path: string): Promise<string> {
    const { revision } = this.request;
    const { stdout } = await this.git(path, ['rev-list', '--first-parent', '--max-parents=0', revision]);
    const root = stdout.trim().split('\n').pop() ?? '';
    if (!/^[0-9a-f]{40,64}$/.test(root)) throw new Error(`could not find the root commit of ${revision}`);
    return root;
  }

  /**
   * Makes `dest` a worktree of the store unless it already is one. Says whether it is new (and
   * empty) and whether it was left sparse.
   */
  private async registerTree(storePath: string): Promise<{ fresh: boolean; sparse: boolean }> {
    const admin = await this.treeAdmin(storePath);
    if (admin !== null) {
      await removeLockFiles(admin);
      const sparse = await keepOnlySparseSettings(join(admin, 'config.worktree'));
      return { fresh: false, sparse };
    }
    if (await this.layout.exists(this.dest)) {
      this.request.log(`${this.dest} is not a tree of ${storePath}: replacing it`);
      await this.layout.remove(this.dest);
    }
    await this.timer.time('checkoutMs', async () => {
      await this.git(storePath, ['worktree', 'prune']);
      const { revision } = this.request;
      await this.git(storePath, ['worktree', 'add', '--quiet', '--detach', '--no-checkout', this.dest, revision]);
    });
    return { fresh: true, sparse: false };
  }

  /** The store's admin directory of dest, when dest's `.git` names a worktree of this store that names dest back. */
  private async treeAdmin(storePath: string): Promise<string | null> {
    try {
      const pointer = (await readFile(join(this.dest, '.git'), 'utf8')).trim();
      if (!pointer.startsWith('gitdir: ')) return null;
      const gitdir = pointer.slice('gitdir: '.length);
      const worktrees = join(await realpath(storePath), 'worktrees');
      const admin = await realpath(isAbsolute(gitdir) ? gitdir : join(this.dest, gitdir));
      if (dirname(admin) !== worktrees) return null;
      const back = (await readFile(join(admin, 'gitdir'), 'utf8')).trim();
      return (await realpath(dirname(back))) === (await realpath(this.dest)) ? admin : null;
    } catch {
      return null;
    }
  }

  /**
   * The tree to exactly the revision: sparse settings first, then every untracked and ignored
   * file removed (an earlier job's output), then a forced checkout, which rewrites only the
   * files whose content or stat differs and restores any tracked file a job changed.
   */
  private async updateTree({ fresh, sparse: wasSparse }: { fresh: boolean; sparse: boolean }): Promise<void> {
    const { sparse, revision, log } = this.request;
    await this.timer.time('checkoutMs', async () => {
      if (sparse) await this.git(this.dest, ['sparse-checkout', 'set', '--cone', '--', ...sparse]);
      else if (wasSparse) await this.git(this.dest, ['sparse-checkout', 'disable']);
    });
    if (!fresh) {
      await this.timer.time('cleanMs', async () => {
        await this.resetIndexState(sparse === undefined);
        await this.writingTree(async () => {
          await this.git(this.dest, ['clean', '-ffdxq']);
        });
      });
    }
    await this.timer.time('checkoutMs', () =>
      this.writingTree(async () => {
        await this.git(this.dest, ['checkout', '--force', '--detach', '--quiet', revision]);
      }),
    );
    const { stdout } = await this.git(this.dest, ['rev-parse', 'HEAD']);
    if (stdout.trim() !== revision) throw new Error(`the tree is at ${stdout.trim()} after checking out ${revision}`);
    const { cleanMs, checkoutMs } = this.timer.timings;
    log(`tree at ${revision.slice(0, 12)}: cleaned in ${cleanMs} ms, written in ${checkoutMs} ms`);
  }

  /**
   * What a job can leave in the index that clean and a forced checkout pass over: a file flagged
   * skip-worktree (unless sparse patterns put the flag there) or assume-unchanged, which the
   * checkout would leave as the job changed it; and a submodule it checked out, which clean stays
   * out of. A fresh clone has neither: flags cleared, the submodule's directory left empty.
   */
  private async resetIndexState(full: boolean): Promise<void> {
    const { stdout } = await this.git(this.dest, ['ls-files', '-z', '--stage', '-v']);
    const skipped: string[] = [];
    const assumed: string[] = [];
    const submodules: string[] = [];
    for (const entry of stdout.split('\0')) {
      // `<tag> <mode> <object> <stage>\t<path>`: a lower-case tag is assume-unchanged, S skip-worktree.
      const match = /^(\S) (\d+) \S+ \d\t(.+)$/s.exec(entry);
      if (!match) continue;
      const [, tag = '', mode, path = ''] = match;
      if (tag !== tag.toUpperCase()) assumed.push(path);
      if (full && tag.toUpperCase() === 'S') skipped.push(path);
      if (mode === '160000' && tag.toUpperCase() !== 'S') submodules.push(path);
    }
    // update-index applies only the first of several flags to paths read from stdin: one run each.
    if (assumed.length > 0) {
      await this.git(this.dest, ['update-index', '--no-assume-unchanged', '-z', '--stdin'], `${assumed.join('\0')}\0`);
    }
    if (skipped.length > 0) {
      await this.git(this.dest, ['update-index', '--no-skip-worktree', '-z', '--stdin'], `${skipped.join('\0')}\0`);
    }
    const root = await realpath(this.dest);
    for (const path of submodules) {
      const directory = join(root, path);
      // A link the job put on the way is not followed: nothing outside the tree is removed.
      if ((await realpath(directory).catch(() => null)) !== directory) continue;
      if (!(await this.layout.exists(join(directory, '.git')))) continue;
      await rm(directory, { recursive: true, force: true });
      await mkdir(directory);
    }
  }

  private git(cwd: string, args: string[], input?: string) {
    return this.vcs(['-C', cwd, ...GIT_SETTINGS, ...args], input);
  }

  private networkGit(cwd: string, args: string[]) {
    return this.networkVcs('fetch', ['-C', cwd, ...GIT_SETTINGS, ...args]);
  }
}

/**
 * A job killed midway through a git command of its own leaves that command's lock (index.lock,
 * HEAD.lock) in the tree's admin directory, and the checkout would fail on it as on a damaged
 * store. The tree's lock is held and the job is over: nothing else can be using them.
 */
async function removeLockFiles(admin: string): Promise<void> {
  for (const name of await readdir(admin)) {
    if (name.endsWith('.lock')) await rm(join(admin, name), { force: true });
  }
}

/**
 * A store's own settings, written straight into the config git just made (one file write
 * instead of five `git config` processes): repository format 1 with per-worktree config, so
 * sparse settings stay in each tree; `core.bare` moved to the store's own part of it, or every
 * worktree would think itself bare; gc in the foreground, under our lock; and no remote.
 */
async function configureStore(path: string): Promise<void> {
  const file = join(path, 'config');
  const kept: string[] = [];
  let inRemote = false;
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line.startsWith('[')) inRemote = line.startsWith('[remote ');
    if (inRemote || /^\s*bare\s*=/.test(line) || /^\s*repositoryformatversion\s*=/.test(line)) continue;
    kept.push(line);
  }
  const core = kept.indexOf('[core]');
  kept.splice(core + 1, 0, '\trepositoryformatversion = 1');
  const settings = '[extensions]\n\tworktreeConfig = true\n[gc]\n\tautoDetach = false\n';
  const config = `${kept.join('\n').trimEnd()}\n${settings}`;
  await writeFile(file, config);
  await writeFile(join(path, SETTINGS_AS_MADE), config);
  await writeFile(join(path, 'config.worktree'), '[core]\n\tbare = true\n');
}

/**
 * A tree's own config may hold only what the checkout put there, its sparse settings: a job's
 * `git config --worktree` (an autocrlf, a filter, an fsmonitor command) must not outlive it.
 * Returns whether the tree is sparse.
 */
async function keepOnlySparseSettings(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return false;
  const sparse = text.split('\n').filter((line) => /^\s*sparsecheckout(cone)?\s*=/i.test(line));
  const kept = sparse.length > 0 ? `[core]\n${sparse.join('\n')}\n` : '';
  if (kept !== text) await writeFile(file, kept);
  return sparse.some((line) => /^\s*sparsecheckout\s*=\s*true\s*$/i.test(line));
}
