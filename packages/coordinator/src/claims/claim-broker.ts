import type { Assignment, ClaimRequest } from '@switchyard/protocol';
import type { Logger } from 'pino';

/** Runs one claim transaction for a worker; null when nothing suits it now. */
export type TryClaim = (workerName: string, request: ClaimRequest) => Promise<Assignment | null>;
/** Undoes an assignment that was committed but could not be handed over. */
export type ReleaseClaim = (assignment: Assignment) => Promise<void>;

interface Waiter {
  workerName: string;
  request: ClaimRequest;
  /** Answered already (timed out, released, or its client left). */
  settled: boolean;
  settle(assignment: Assignment | null): void;
}

/**
 * Holds workers' long-poll claims and hands new work straight to them: when a pool gains
 * pending jobs, its waiting workers are offered them in arrival order — no polling loop sits on
 * the path from a job becoming pending to a worker starting it.
 */
export class ClaimBroker {
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly draining = new Set<string>();
  private readonly drainAgain = new Set<string>();

  constructor(
    private readonly tryClaim: TryClaim,
    private readonly releaseClaim: ReleaseClaim,
    private readonly logger: Logger,
  ) {}

  /** Names of workers whose claim is held right now. */
  waitingWorkers(): Set<string> {
    const names = new Set<string>();
    for (const list of this.waiting.values()) for (const w of list) names.add(w.workerName);
    return names;
  }

  async claim(
    workerName: string,
    request: ClaimRequest,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<Assignment | null> {
    // A worker has one claim at a time; a new one means the old connection is stale.
    this.release(workerName);
    const assignment = await this.tryClaim(workerName, request);
    if (assignment || waitMs <= 0 || signal.aborted) return assignment;
    return new Promise((resolve) => {
      const list = this.waiting.get(request.pool) ?? [];
      const waiter: Waiter = {
        workerName,
        request,
        settled: false,
        settle: (value) => {
          waiter.settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          const current = this.waiting.get(request.pool) ?? [];
          const index = current.indexOf(waiter);
          if (index >= 0) current.splice(index, 1);
          resolve(value);
        },
      };
      const onAbort = () => waiter.settle(null);
      const timer = setTimeout(() => waiter.settle(null), waitMs);
      signal.addEventListener('abort', onAbort);
      list.push(waiter);
      this.waiting.set(request.pool, list);
    });
  }

  private release(workerName: string): void {
    for (const list of this.waiting.values()) {
      for (const waiter of list.filter((w) => w.workerName === workerName)) waiter.settle(null);
    }
  }

  /** New pending work in these pools: offer it to their waiting workers. */
  offer(pools: Iterable<string>): void {
    for (const pool of pools) void this.drain(pool);
  }

  private async drain(pool: string): Promise<void> {
    if (this.draining.has(pool)) {
      this.drainAgain.add(pool);
      return;
    }
    this.draining.add(pool);
    try {
      do {
        this.drainAgain.delete(pool);
        // Workers with the same tags see the same jobs: once one found nothing, so would the rest.
        const foundNothing = new Set<string>();
        for (const waiter of [...(this.waiting.get(pool) ?? [])]) {
          const tags = JSON.stringify(Object.entries(waiter.request.tags ?? {}).sort());
          if (foundNothing.has(tags) || !(this.waiting.get(pool) ?? []).includes(waiter)) continue;
          const assignment = await this.tryClaim(waiter.workerName, waiter.request);
          if (!assignment) {
            foundNothing.add(tags);
          } else if (waiter.settled) {
            // The hold ended while the claim committed: the worker was told "nothing".
            await this.releaseClaim(assignment);
          } else {
            waiter.settle(assignment);
          }
        }
      } while (this.drainAgain.has(pool));
    } catch (error) {
      this.logger.error({ err: error, pool }, 'offering work to waiting workers failed');
    } finally {
      this.draining.delete(pool);
    }
  }

  /** Answers every held claim with "no work", for shutdown. */
  releaseAll(): void {
    for (const list of this.waiting.values()) for (const waiter of [...list]) waiter.settle(null);
  }
}
