import { setImmediate as nextLoopTurn } from 'node:timers/promises';

/** How long history reads may hold the event loop before requests waiting on it get their turn. */
const DEFAULT_BUDGET_MS = 10;

/**
 * Runs the reads of readers that are behind (replaying history) one at a time, in arrival order,
 * and hands the event loop back every `budgetMs`: a thousand readers replaying from the start
 * share one lane instead of a thousand, so the API's requests, live readers and worker reports
 * wait at most one budget behind them, and at most one store read for history runs at once.
 */
export class HistoryTurns {
  private readonly queue: (() => Promise<void>)[] = [];
  private running = false;

  constructor(
    private readonly budgetMs = DEFAULT_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `read` in its turn and resolves (or rejects) with what it gave. */
  run<T>(read: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => read().then(resolve, reject));
      if (!this.running) void this.serve();
    });
  }

  private async serve(): Promise<void> {
    this.running = true;
    let since = this.now();
    for (let turn = this.queue.shift(); turn !== undefined; turn = this.queue.shift()) {
      await turn();
      if (this.now() - since >= this.budgetMs) {
        await nextLoopTurn();
        since = this.now();
      }
    }
    this.running = false;
  }
}
