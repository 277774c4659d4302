import { setImmediate as nextLoopTurn } from 'node:timers/promises';

/** How long history reads may hold the event loop before requests waiting on it get their turn. */
const DEFAULT_BUDGET_MS = 10;

type Turn = () => Promise<void>;

/**
 * Runs the reads of readers that are behind (replaying history) one at a time and hands the
 * event loop back every `budgetMs`: a thousand readers replaying from the start share one lane
 * instead of a thousand, so the API's requests, live readers and worker reports wait at most one
 * budget behind them, and at most one store read for history runs at once.
 *
 * Reads that need no store read (`batch` null: their batch is cached, or they read the memory
 * ring) go first, in arrival order. The others wait grouped by the batch they need; the oldest
 * group's first read goes when no other is waiting, and the rest of its group follow at once,
 * from the batch it cached. So readers that drifted apart close up behind the one in front
 * instead of each reading the store: in arrival order alone, a thousand readers that connected
 * over a second or two stay as far apart as they started, more batches than any cache keeps.
 */
export class HistoryTurns {
  private readonly ready: Turn[] = [];
  private readonly waitingForStore = new Map<number, Turn[]>();
  private running = false;

  constructor(
    private readonly budgetMs = DEFAULT_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Runs `read` in its turn and resolves (or rejects) with what it gave. `batch`: the store
   * batch it must read first, or null when it reads from memory.
   */
  run<T>(read: () => Promise<T>, batch: number | null = null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const turn = () => read().then(resolve, reject);
      if (batch === null) this.ready.push(turn);
      else {
        const group = this.waitingForStore.get(batch);
        if (group) group.push(turn);
        else this.waitingForStore.set(batch, [turn]);
      }
      if (!this.running) void this.serve();
    });
  }

  private next(): Turn | undefined {
    const turn = this.ready.shift();
    if (turn !== undefined) return turn;
    for (const [batch, group] of this.waitingForStore) {
      this.waitingForStore.delete(batch);
      this.ready.push(...group.slice(1));
      return group[0];
    }
    return undefined;
  }

  private async serve(): Promise<void> {
    this.running = true;
    let since = this.now();
    for (let turn = this.next(); turn !== undefined; turn = this.next()) {
      await turn();
      if (this.now() - since >= this.budgetMs) {
        await nextLoopTurn();
        since = this.now();
      }
    }
    this.running = false;
  }
}
