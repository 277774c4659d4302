import type { Logger } from 'pino';

/**
 * Logs the start and the end of a run of failures rather than every failed try in between: a
 * worker retrying every few seconds through a long coordinator outage would otherwise bury
 * everything else in its log.
 */
export class OutageLog {
  private since: number | null = null;
  private lastKind: string | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly recoveredMessage: string,
  ) {}

  /** Calls `report` when this failure starts an outage, or is of another kind than the last one. */
  failed(kind: string, report: () => void): void {
    this.since ??= Date.now();
    if (this.lastKind === kind) return;
    this.lastKind = kind;
    report();
  }

  succeeded(): void {
    if (this.since === null) return;
    this.logger.info({ outageMs: Date.now() - this.since }, this.recoveredMessage);
    this.since = null;
    this.lastKind = null;
  }
}
