/**
 * One computation per key at a time: a second caller asking while the first is still running
 * joins it instead of starting another (the old signing server's `pending[(hash, format)]`).
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The computation's result, and whether this call joined one already running. */
  run(key: string, compute: () => Promise<T>): { result: Promise<T>; joined: boolean } {
    const existing = this.running.get(key);
    if (existing) return { result: existing, joined: true };
    const result = compute().finally(() => this.running.delete(key));
    this.running.set(key, result);
    return { result, joined: false };
  }
}
