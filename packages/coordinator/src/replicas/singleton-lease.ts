import type { Logger } from 'pino';
import type { ReplicaStore, SingletonFence } from '../store/port.ts';

/** What runs while this replica holds the singleton; it stops when `signal` aborts. */
export type SingletonWork = (fence: SingletonFence, signal: AbortSignal) => Promise<void>;

export interface SingletonTiming {
  /** How long a lease lasts unless renewed: how long a dead holder keeps the loop stopped. */
  leaseMs: number;
  /** How often the lease is renewed (or, when another holds it, asked for). */
  renewMs: number;
}

/**
 * Runs a loop on one replica at a time. Every replica asks for the singleton every `renewMs`;
 * the one that holds it runs `work` under a fence (name, holder, term) that its writes carry, and
 * renews the lease. A replica that loses it — another took it over after its lease ran out, or it
 * could not renew within its lease — stops its work; writes it still makes under the old term are
 * refused by the store, so a replica that was paused past its lease and wakes up cannot move a
 * cursor the new holder owns.
 */
export class SingletonLease {
  private term: number | null = null;
  /** Until when (this process's monotonic clock) the lease is surely ours: its last renewal's send time + lease. */
  private surelyHeldUntil = 0;
  private work: { abort: AbortController; done: Promise<void> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly store: Pick<ReplicaStore, 'claimSingleton' | 'releaseSingleton'>,
    readonly name: string,
    private readonly holder: string,
    private readonly timing: SingletonTiming,
    private readonly run: SingletonWork,
    private readonly logger: Logger,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** The term this replica holds the singleton under, or null. */
  get heldTerm(): number | null {
    return this.work ? this.term : null;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.timing.renewMs);
  }

  /**
   * Stops the work and lets the lease go for another replica to take at once; `release: false`
   * leaves it to run out, as a replica that died would.
   */
  async close(options: { release?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    const term = this.term;
    await this.stopWork();
    if (term !== null && options.release !== false) {
      await this.store.releaseSingleton({ name: this.name, holder: this.holder, term }).catch((error: unknown) => {
        this.logger.warn({ err: error, singleton: this.name }, 'could not release the singleton; it expires by itself');
      });
    }
  }

  private tick(): void {
    // A renewal stuck past the lease (the database unreachable) must not keep the work going.
    if (this.work && this.monotonic() > this.surelyHeldUntil) {
      this.logger.warn(
        { singleton: this.name, term: this.term },
        'singleton lease not renewed in time; stopping its loop',
      );
      void this.stopWork();
    }
    this.ticking ??= this.renew().finally(() => {
      this.ticking = null;
    });
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    const sentAt = this.monotonic();
    let claim: Awaited<ReturnType<ReplicaStore['claimSingleton']>>;
    try {
      claim = await this.store.claimSingleton(this.name, this.holder, this.term, this.timing.leaseMs);
    } catch (error) {
      this.logger.warn(
        { err: error, singleton: this.name },
        'could not renew or ask for the singleton lease; will retry',
      );
      return;
    }
    if (this.closed) return;
    if (claim.held && claim.term === this.term) {
      this.surelyHeldUntil = sentAt + this.timing.leaseMs;
      if (!this.work) this.startWork(claim.term);
      return;
    }
    if (this.term !== null) {
      this.logger.warn(
        { singleton: this.name, term: this.term, now: claim.held ? 'this replica, anew' : claim.holder },
        'singleton lease lost; stopping its loop',
      );
      await this.stopWork();
      this.term = null;
    }
    if (claim.held) {
      this.term = claim.term;
      this.surelyHeldUntil = sentAt + this.timing.leaseMs;
      this.logger.info({ singleton: this.name, term: claim.term }, 'singleton lease taken; starting its loop');
      this.startWork(claim.term);
    }
  }

  private startWork(term: number): void {
    const abort = new AbortController();
    const fence = { name: this.name, holder: this.holder, term };
    const work = {
      abort,
      done: this.run(fence, abort.signal).catch((error: unknown) => {
        // Restarted by the next renewal while the lease is still ours.
        this.logger.error({ err: error, singleton: this.name, term }, 'singleton loop failed');
      }),
    };
    this.work = work;
    void work.done.then(() => {
      if (this.work === work) this.work = null;
    });
  }

  private async stopWork(): Promise<void> {
    const work = this.work;
    if (!work) return;
    this.work = null;
    work.abort.abort();
    await work.done;
  }
}
