import { mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CheckoutRefused } from './checkout-refused.ts';
import type { CheckoutReport, PhaseTimer, ResolvedCheckout } from './index.ts';
import { type CheckoutPass, StoreCheckout } from './store-checkout.ts';
import { isDamage, redactUrl, VcsCommandError } from './vcs-command.ts';

/** The share and purge extensions are bundled with Mercurial; older versions need them enabled. */
const HG_SETTINGS = ['--config', 'extensions.share=', '--config', 'extensions.purge=', '--config', 'ui.interactive=no'];
const NULL_REVISION = '0'.repeat(40);

/**
 * Mercurial, the way robustcheckout does it: a store per repository, keyed by revision 0 (the
 * server tells it without a clone), and the tree as an `hg share` of it, purged of every
 * untracked and ignored file and updated with --clean.
 */
export function hgCheckout(request: ResolvedCheckout, timer: PhaseTimer): Promise<CheckoutReport> {
  return new HgCheckout(request, timer).run();
}

class HgCheckout extends StoreCheckout {
  protected readonly program = 'hg';

  protected async checkoutOnce(): Promise<CheckoutPass> {
    const key = await this.rootRevision();
    const path = this.layout.storePath('hg', key);
    this.storePath = path;
    const lock = await this.lockStore(path);
    const pass = await this.holding(lock, async (): Promise<CheckoutPass & { fresh: boolean }> => {
      await clearRepositoryConfig(path);
      let createdStore = false;
      let fetched = false;
      if (!(await this.layout.isFinished(path, 'hg', key))) {
        await this.createStore(path, key);
        createdStore = true;
        fetched = true;
      }
      if (!(await this.hasRevision(path))) {
        await this.timer.time('fetchMs', () =>
          this.networkVcs('pull', [
            '-R',
            path,
            ...HG_SETTINGS,
            'pull',
            '--quiet',
            '-r',
            this.request.revision,
            '--',
            this.request.url,
          ]).catch((error: unknown) => {
            // The server was reached and answered that it has no such revision: the job's mistake.
            if (error instanceof VcsCommandError && /unknown revision/i.test(error.stderr) && !isDamage(error)) {
              throw new CheckoutRefused(
                `revision ${this.request.revision} is not in ${redactUrl(this.request.url)}: ${error.message}`,
              );
            }
            throw error;
          }),
        );
        fetched = true;
        if (!(await this.hasRevision(path))) {
          throw new CheckoutRefused(`revision ${this.request.revision} is not in ${redactUrl(this.request.url)}`);
        }
      }
      const fresh = await this.shareTree(path);
      return { storeKey: key, storePath: path, createdStore, fetched, fresh };
    });
    await this.updateTree(pass.fresh);
    const { fresh: _fresh, ...report } = pass;
    return report;
  }

  /** Revision 0 of the repository at the URL, asked of the server: the same for every URL of it. */
  private async rootRevision(): Promise<string> {
    const { url } = this.request;
    const { stdout } = await this.networkVcs('identify', [
      ...HG_SETTINGS,
      'identify',
      '--debug',
      '--id',
      '-r',
      '0',
      '--',
      url,
    ]);
    const root = stdout.trim();
    if (!/^[0-9a-f]{40}$/.test(root) || root === NULL_REVISION) {
      throw new Error(`${redactUrl(url)} has no revision 0 (an empty repository?)`);
    }
    return root;
  }

  private async createStore(path: string, key: string): Promise<void> {
    const { url, log } = this.request;
    const temporary = this.layout.discoveryPath('hg', url);
    await this.layout.remove(path);
    await this.layout.remove(temporary);
    await mkdir(dirname(temporary), { recursive: true });
    log(`new store: cloning ${redactUrl(url)}`);
    // --pull: from a local path hg would hard-link the revlogs, and damage to the store would be
    // damage to the server's repository.
    await this.timer.time('fetchMs', () =>
      this.networkVcs('clone', [...HG_SETTINGS, 'clone', '--quiet', '--noupdate', '--pull', '--', url, temporary]),
    );
    await clearRepositoryConfig(temporary);
    await this.layout.markFinished(temporary, { kind: 'hg', key, createdAt: new Date().toISOString() });
    await mkdir(dirname(path), { recursive: true });
    await rename(temporary, path);
  }

  private async hasRevision(path: string): Promise<boolean> {
    try {
      const { stdout } = await this.vcs(['-R', path, 'log', '-r', this.request.revision, '--template', '{node}']);
      return stdout.trim().startsWith(this.request.revision);
    } catch {
      return false;
    }
  }

  /** Makes `dest` a share of the store unless it is one already. Returns whether it is new (and empty). */
  private async shareTree(storePath: string): Promise<boolean> {
    if (await this.isShareOf(storePath)) {
      await clearRepositoryConfig(this.dest);
      return false;
    }
    if (await this.layout.exists(this.dest)) {
      this.request.log(`${this.dest} is not a share of ${storePath}: replacing it`);
      await this.layout.remove(this.dest);
    }
    await this.timer.time('checkoutMs', () =>
      this.vcs([...HG_SETTINGS, 'share', '--quiet', '--noupdate', storePath, this.dest]),
    );
    return true;
  }

  private async isShareOf(storePath: string): Promise<boolean> {
    try {
      const shared = (await readFile(join(this.dest, '.hg', 'sharedpath'), 'utf8')).trim();
      return (await realpath(shared)) === (await realpath(join(storePath, '.hg')));
    } catch {
      return false;
    }
  }

  private async updateTree(fresh: boolean): Promise<void> {
    const { revision, log } = this.request;
    if (!fresh) {
      await this.timer.time('cleanMs', async () => {
        // purge leaves repositories a job made inside the tree alone; a fresh clone has none.
        // They go first, so that purge then removes the directories they leave empty.
        await removeNestedRepositories(this.dest);
        await this.writingTree(async () => {
          // purge warns of what it can't remove but still succeeds: that is a refusal all the same.
          const { stderr } = await this.vcs(['-R', this.dest, ...HG_SETTINGS, 'purge', '--all']);
          if (/cannot be removed/.test(stderr)) throw new VcsCommandError('hg purge', 0, stderr);
        });
        // hg trusts a file whose size and mtime match its dirstate, so a job can change one
        // unseen; forgetting what the dirstate knows makes the update compare contents.
        await this.vcs(['-R', this.dest, 'debugrebuilddirstate']);
      });
    }
    await this.timer.time('checkoutMs', () =>
      this.writingTree(async () => {
        await this.vcs(['-R', this.dest, ...HG_SETTINGS, 'update', '--quiet', '--clean', '-r', revision]);
      }),
    );
    const { stdout } = await this.vcs(['-R', this.dest, 'log', '-r', '.', '--template', '{node}']);
    if (!stdout.trim().startsWith(revision)) {
      throw new Error(`the tree is at ${stdout.trim()} after updating to ${revision}`);
    }
    const { cleanMs, checkoutMs } = this.timer.timings;
    log(`tree at ${revision.slice(0, 12)}: purged in ${cleanMs} ms, updated in ${checkoutMs} ms`);
  }
}

/** Deletes every directory below `root` that holds a `.hg` of its own. */
async function removeNestedRepositories(root: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.hg') continue;
      const path = join(dir, entry.name);
      const nested = await stat(join(path, '.hg')).then(
        () => true,
        () => false,
      );
      if (nested) await rm(path, { recursive: true, force: true });
      else await walk(path);
    }
  };
  await walk(root);
}

/**
 * Empties a store's or share's `.hg/hgrc`: hg runs the hooks and extensions a job could write
 * there (into the share, or the store through `.hg/sharedpath`) inside our next command, and a
 * clone leaves the URL there, password and all. Every command here names what it needs.
 */
async function clearRepositoryConfig(repository: string): Promise<void> {
  const file = join(repository, '.hg', 'hgrc');
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text !== '') await writeFile(file, '');
}
