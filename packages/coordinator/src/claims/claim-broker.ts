import type { ClaimRequest } from '@switchyard/protocol';
import type { Logger } from 'pino';
import type { CheckedIn, JobAssignment, WaitingWorker } from '../store/port.ts';

/** Settles what a claiming worker held before and records it; says until when it is benched. */
export type CheckIn = (
  workerName: string,
  request: ClaimRequest,
  credential: string | null,
) => Promise<{ benchedUntil: number | null }>;
/** Runs the scheduler over one pool's waiting workers and pending jobs and commits its decisions. */
export type AssignWork = (pool: string, waiting: WaitingWorker[]) => Promise<Map<string, JobAssignment>>;
/** Undoes an assignment that was committed but could not be handed over. */
export type ReleaseClaim = (assignment: JobAssignment) => Promise<void>;

interface Waiter {
  workerName: string;
  pool: string;
  idleSince: number;
  /** Answered already (timed out, released, or its client left). */
  settled: boolean;
  settle(assignment: JobAssignment | null): void;
}

/**
 * Holds workers' long-poll claims and matches them with work the moment either side appears:
 * a worker arriving, a job becoming pending, or a bench ending runs the scheduler over the
 * pool's waiting workers and pending jobs at once, so the best waiting worker gets each job and
 * no polling loop sits on the path from a job becoming pending to a worker starting it.
 * Matching is serialised per pool; requests that arrive meanwhile fold into one more round.
 */
export class ClaimBroker {
  private readonly waiting = new Map<string, Waiter[]>();
  /** Since when each worker has had nothing to do, across its successive long polls. */
  private readonly idleSince = new Map<string, number>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly drainAgain = new Set<string>();

  constructor(
    private readonly checkIn: CheckIn,
    private readonly assignWork: AssignWork,
    private readonly releaseClaim: ReleaseClaim,
    private readonly logger: Logger,
  ) {}

  /** Names of workers whose claim is held right now. */
  waitingWorkers(): Set<string> {
    const names = new Set<string>();
    for (const list of this.waiting.values()) for (const w of list) names.add(w.workerName);
    return names;
  }

  /**
   * `credential`: the name of the farm token the worker claims with (null without auth); it binds
   * the worker. `checkedIn`: the check-in was written already, with the reports the claim came
   * with (JobStore.report).
   */
  async claim(
    workerName: string,
    request: ClaimRequest,
    waitMs: number,
    signal: AbortSignal,
    credential: string | null = null,
    checkedIn?: CheckedIn,
  ): Promise<JobAssignment | null> {
    // A worker has one claim at a time; a new one means the old connection is stale.
    this.release(workerName);
    const { benchedUntil } = checkedIn ?? (await this.checkIn(workerName, request, credential));
    if (signal.aborted) return null;
    const idleSince = this.idleSince.get(workerName) ?? Date.now();
    this.idleSince.set(workerName, idleSince);
    const pool = request.pool;
    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const waiter: Waiter = {
        workerName,
        pool,
        idleSince,
        settled: false,
        settle: (value) => {
          if (waiter.settled) return;
          waiter.settled = true;
          for (const timer of timers) clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          const current = this.waiting.get(pool) ?? [];
          const index = current.indexOf(waiter);
          if (index >= 0) current.splice(index, 1);
          if (value) this.idleSince.delete(workerName);
          resolve(value);
        },
      };
      const onAbort = () => waiter.settle(null);
      signal.addEventListener('abort', onAbort);
      if (waitMs > 0) timers.push(setTimeout(() => waiter.settle(null), waitMs));
      if (benchedUntil !== null && benchedUntil - Date.now() < waitMs) {
        // Its bench ends while it waits: match it then, as if it had just arrived.
        timers.push(setTimeout(() => this.offer([pool]), Math.max(0, benchedUntil - Date.now()) + 5));
      }
      const list = this.waiting.get(pool) ?? [];
      list.push(waiter);
      this.waiting.set(pool, list);
      void this.drain(pool).then(() => {
        if (waitMs <= 0) waiter.settle(null);
      });
    });
  }

  private release(workerName: string): void {
    for (const list of this.waiting.values()) {
      for (const waiter of list.filter((w) => w.workerName === workerName)) waiter.settle(null);
    }
  }

  /** New pending work in these pools: match it with their waiting workers. */
  offer(pools: Iterable<string>): void {
    for (const pool of pools) void this.drain(pool);
  }

  /** Resolves once a matching round that saw everything queued before the call has finished. */
  private drain(pool: string): Promise<void> {
    const running = this.draining.get(pool);
    if (running) {
      this.drainAgain.add(pool);
      return running;
    }
    const round = this.matchRounds(pool).finally(() => this.draining.delete(pool));
    this.draining.set(pool, round);
    return round;
  }

  private async matchRounds(pool: string): Promise<void> {
    try {
      do {
        this.drainAgain.delete(pool);
        const waiters = (this.waiting.get(pool) ?? []).filter((w) => !w.settled);
        if (waiters.length === 0) continue;
        const assignments = await this.assignWork(
          pool,
          waiters.map((w) => ({ name: w.workerName, idleSince: w.idleSince })),
        );
        for (const [name, assignment] of assignments) {
          const waiter = waiters.find((w) => w.workerName === name);
          if (!waiter || waiter.settled) {
            // The hold ended while the match committed: the worker was told "nothing".
            await this.releaseClaim(assignment);
          } else {
            waiter.settle(assignment);
          }
        }
      } while (this.drainAgain.has(pool));
    } catch (error) {
      this.logger.error({ err: error, pool }, 'matching work with waiting workers failed');
    }
  }

  /** Answers every held claim with "no work", for shutdown. */
  releaseAll(): void {
    for (const list of this.waiting.values()) for (const waiter of [...list]) waiter.settle(null);
  }
}
