import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { acquireLock, type HeldLock } from '../file-lock.ts';
import type { CheckoutReport, PhaseTimer, ResolvedCheckout } from './index.ts';
import { withNetworkRetries } from './network-retry.ts';
import { StoreLayout } from './store-layout.ts';
import { isDamage, runVcs, type VcsOutput } from './vcs-command.ts';
import { makeDirectoriesWritable, refusedForPermission } from './writable-tree.ts';

/** What one pass of a checkout found and did, before the report adds timings and recoveries. */
export interface CheckoutPass {
  storeKey: string;
  storePath: string;
  createdStore: boolean;
  fetched: boolean;
}

/**
 * What git and hg checkouts share: robustcheckout's contract. The tree is locked for the whole
 * checkout and the store while it is fetched into; a lock left by a killed checkout means what
 * it guarded is suspect, and a store or tree that turns out damaged is deleted and made again
 * once, never repaired.
 */
export abstract class StoreCheckout {
  protected readonly layout: StoreLayout;
  protected readonly dest: string;
  protected readonly recovered: string[] = [];
  /** The store this pass uses: deleted if it turns out damaged. */
  protected storePath: string | null = null;

  constructor(
    protected readonly request: ResolvedCheckout,
    protected readonly timer: PhaseTimer,
  ) {
    this.layout = new StoreLayout(resolve(request.storeDir));
    this.dest = resolve(request.dest);
  }

  protected abstract program: 'git' | 'hg';

  /** One attempt at the whole checkout; a damaged store makes it throw, and the caller retries once. */
  protected abstract checkoutOnce(): Promise<CheckoutPass>;

  async run(): Promise<CheckoutReport> {
    const { log, revision } = this.request;
    await mkdir(this.layout.root, { recursive: true });
    await mkdir(dirname(this.dest), { recursive: true });
    const treeLock = await this.lock(`${this.dest}.checkout-lock`, `checkout of ${revision} into ${this.dest}`);
    try {
      if (treeLock.brokeStaleLock) {
        log(`an earlier checkout into ${this.dest} was killed midway: deleting the tree`);
        this.recovered.push('abandoned-tree');
        await this.layout.remove(this.dest);
      }
      for (let round = 1; ; round += 1) {
        try {
          const pass = await this.checkoutOnce();
          return { ...pass, recovered: [...this.recovered], timings: this.timer.timings };
        } catch (error) {
          if (round > 1 || !isDamage(error)) throw error;
          log(`store or tree damaged (${(error as Error).message}): deleting both and starting again`);
          this.recovered.push('damaged-store');
          if (this.storePath) await this.removeStore(this.storePath);
          await this.layout.remove(this.dest);
        }
      }
    } finally {
      await treeLock.release();
    }
  }

  /** Locks a store for fetching; one whose last holder was killed is deleted, to be made again. */
  protected async lockStore(path: string): Promise<HeldLock> {
    await mkdir(dirname(path), { recursive: true });
    const lock = await this.lock(this.layout.lockPath(path), `fetch into ${path}`);
    if (lock.brokeStaleLock) {
      this.request.log(`an earlier fetch into ${path} was killed midway: deleting the store`);
      this.recovered.push('abandoned-store');
      await this.layout.remove(path);
    }
    return lock;
  }

  /** Deletes a store under its lock, so nobody is fetching into it meanwhile. */
  private async removeStore(path: string): Promise<void> {
    const lock = await this.lock(this.layout.lockPath(path), `delete ${path}`);
    await this.holding(lock, () => this.layout.remove(path));
  }

  protected lock(path: string, purpose: string): Promise<HeldLock> {
    const { log, signal } = this.request;
    return this.timer.time('lockMs', () =>
      acquireLock(path, {
        purpose,
        signal,
        onWait: (owner) => log(`waiting for ${owner ? `${owner.purpose} (pid ${owner.pid})` : 'another checkout'}`),
      }),
    );
  }

  protected vcs(args: string[], input?: string): Promise<VcsOutput> {
    // Run from the store root, which is no repository: hg reads the config of the one it stands in.
    return runVcs({ program: this.program, args, input, cwd: this.layout.root, signal: this.request.signal });
  }

  /** A command that talks to the server: network failures are tried again with backoff. */
  protected networkVcs(what: string, args: string[]): Promise<VcsOutput> {
    const { networkAttempts, retryDelayMs, log, signal } = this.request;
    return withNetworkRetries(what, { attempts: networkAttempts, baseDelayMs: retryDelayMs, log, signal }, () =>
      this.vcs(args),
    );
  }

  /**
   * Runs a step that writes the tree; when it was refused for want of permission (a job left
   * directories it can't write), makes every directory in the tree writable and runs it again.
   */
  protected async writingTree(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (!refusedForPermission(error)) throw error;
      this.request.log(`the last job left directories in ${this.dest} nobody may write: making them writable`);
      await makeDirectoriesWritable(this.dest);
      await step();
    }
  }

  /** Runs `work` with `lock` held and lets it go only if `work` fails: on success the caller keeps it. */
  protected async releasingOnError<T>(lock: HeldLock, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Runs `work` while holding `lock`, releasing it however `work` ends. */
  protected async holding<T>(lock: HeldLock, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      await lock.release();
    }
  }
}
