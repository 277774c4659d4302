export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. */
  initialMs?: number;
  /** Upper bound of any delay, in milliseconds. */
  maxMs?: number;
}

/**
 * Exponential backoff with jitter: each delay is drawn uniformly from [d/2, d] where d
 * doubles from `initialMs` up to `maxMs`. The jitter spreads a fleet of workers that lost the
 * coordinator at the same moment, so they do not all come back in the same millisecond.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private ceilingMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 10_000;
    this.ceilingMs = this.initialMs;
  }

  /** The delay to wait before the next try; each call doubles the one after it. */
  next(): number {
    const delay = this.ceilingMs / 2 + Math.random() * (this.ceilingMs / 2);
    this.ceilingMs = Math.min(this.ceilingMs * 2, this.maxMs);
    return Math.round(delay);
  }

  /** Back to the shortest delay, after a success. */
  reset(): void {
    this.ceilingMs = this.initialMs;
  }
}
