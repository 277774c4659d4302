import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { classifyFailure, describeFailure } from './failure-kind.ts';
import { OutageLog } from './outage-log.ts';
import { sleep } from './sleep.ts';

/** One report to the coordinator. `send` must be safe to repeat: it is retried after timeouts. */
export interface OutboxMessage {
  /** Names the message in log lines, e.g. `log step 2 seq 14`. */
  description: string;
  /** Bytes it holds in memory, counted towards backpressure. */
  bytes: number;
  send(signal: AbortSignal): Promise<void>;
}

export interface OutboxOptions {
  logger: Logger;
  /** Called once when the coordinator answers 409 lease-lost; the outbox has closed itself. */
  onLeaseLost: () => void;
  backoff?: BackoffOptions;
  /** A request that has not answered by then is abandoned and tried again. */
  requestTimeoutMs?: number;
  /** Above this many undelivered bytes, producers are asked to pause. */
  highWaterBytes?: number;
  /** Paused producers resume once the undelivered bytes are down to this. */
  lowWaterBytes?: number;
}

interface Waiter {
  isMet: () => boolean;
  resolve: () => void;
}

/**
 * The single ordered channel for everything an attempt reports: step started, log batches, step
 * finished, attempt finished. Messages go out strictly one at a time in the order they were
 * queued, so the coordinator never sees a step finish before its last log batch, and a message
 * that fails for a transient reason is retried (with jittered backoff) until it goes through —
 * a worker that lost the coordinator reports everything once it is back.
 *
 * Messages the coordinator refuses (4xx) are logged and dropped, since repeating them cannot
 * help; `lease-lost` drops everything, since the attempt is no longer ours to report on.
 */
export class Outbox {
  private readonly logger: Logger;
  private readonly onLeaseLost: () => void;
  private readonly backoff: Backoff;
  private readonly requestTimeoutMs: number;
  private readonly highWaterBytes: number;
  private readonly lowWaterBytes: number;
  private readonly outage: OutageLog;
  private readonly closing = new AbortController();
  private readonly queue: OutboxMessage[] = [];
  private waiters: Waiter[] = [];
  private queuedBytes = 0;
  private pumping = false;

  constructor(options: OutboxOptions) {
    this.logger = options.logger;
    this.onLeaseLost = options.onLeaseLost;
    this.backoff = new Backoff(options.backoff);
    this.outage = new OutageLog(options.logger, 'connected again; delivering queued reports');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.highWaterBytes = options.highWaterBytes ?? 32 * 1024 * 1024;
    this.lowWaterBytes = options.lowWaterBytes ?? this.highWaterBytes / 2;
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get pendingMessages(): number {
    return this.queue.length;
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** True when producers should pause until `relieved()` resolves. */
  get overloaded(): boolean {
    return this.queuedBytes > this.highWaterBytes;
  }

  /** Queues a message; after `close()` it is dropped, as the attempt is over. */
  enqueue(message: OutboxMessage): void {
    if (this.closed) return;
    this.queue.push(message);
    this.queuedBytes += message.bytes;
    void this.pump();
  }

  /** Resolves once the undelivered bytes are down to the low-water mark (or the outbox closed). */
  relieved(): Promise<void> {
    return this.when(() => this.queuedBytes <= this.lowWaterBytes);
  }

  /** Resolves once every queued message has been delivered or dropped. */
  idle(): Promise<void> {
    return this.when(() => this.queue.length === 0);
  }

  /** Drops everything not yet delivered and aborts the request in flight. */
  close(): void {
    if (this.closed) return;
    this.closing.abort();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.notify();
  }

  private when(isMet: () => boolean): Promise<void> {
    if (isMet() || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ isMet, resolve }));
  }

  private notify(): void {
    const ready = this.waiters.filter((waiter) => this.closed || waiter.isMet());
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const message = this.queue[0]!;
        await this.deliver(message);
        if (this.closed) return;
        this.queue.shift();
        this.queuedBytes -= message.bytes;
        this.notify();
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Returns once the message was delivered or dropped, or the outbox closed. */
  private async deliver(message: OutboxMessage): Promise<void> {
    while (!this.closed) {
      try {
        await message.send(AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.requestTimeoutMs)]));
        this.recovered();
        return;
      } catch (error) {
        if (this.closed) return;
        const kind = classifyFailure(error);
        if (kind === 'lease-lost') {
          this.logger.warn({ report: message.description }, 'the coordinator gave this job to another worker');
          this.close();
          this.onLeaseLost();
          return;
        }
        if (kind !== 'transient') {
          this.logger.error(
            { report: message.description, error: describeFailure(error) },
            'the coordinator refused a report; dropping it',
          );
          this.recovered();
          return;
        }
        this.outage.failed(kind, () =>
          this.logger.warn(
            { report: message.description, error: describeFailure(error) },
            'could not deliver a report; retrying until the coordinator is back',
          ),
        );
        await sleep(this.backoff.next(), this.closing.signal);
      }
    }
  }

  private recovered(): void {
    this.backoff.reset();
    this.outage.succeeded();
  }
}
