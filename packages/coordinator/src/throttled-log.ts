import type { Logger } from 'pino';

const INTERVAL_MS = 10_000;

interface Pending {
  count: number;
  fields: Record<string, unknown>;
  timer: NodeJS.Timeout;
}

/**
 * Warnings that an attack or a fault can repeat thousands of times a second: the first of a kind
 * is logged at once, the rest of its interval are counted and logged as one line when it ends
 * (with the last one's fields and how many there were), so the log says what happened without
 * growing with it.
 */
export class ThrottledLog {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = INTERVAL_MS,
  ) {}

  warn(message: string, fields: Record<string, unknown>): void {
    const pending = this.pending.get(message);
    if (pending) {
      pending.count += 1;
      pending.fields = fields;
      return;
    }
    this.logger.warn(fields, message);
    const timer = setTimeout(() => this.flush(message), this.intervalMs);
    timer.unref();
    this.pending.set(message, { count: 0, fields, timer });
  }

  /** Logs what is still counted, now (at shutdown). */
  close(): void {
    for (const [message, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.flush(message);
    }
  }

  private flush(message: string): void {
    const pending = this.pending.get(message);
    this.pending.delete(message);
    if (!pending || pending.count === 0) return;
    const seconds = Math.round(this.intervalMs / 1000);
    this.logger.warn(
      { ...pending.fields, repeated: pending.count },
      `${message} (${pending.count} more in the last ${seconds} s)`,
    );
  }
}
