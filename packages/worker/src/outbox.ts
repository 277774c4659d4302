import type { ReportEntry } from '@switchyard/protocol';
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
  /** The message as an entry of a batch; without it, it always goes alone. */
  entry?: () => ReportEntry;
  /**
   * Worth holding back a little, alone at the head of the queue, for a message to go with it:
   * a step's start, which nothing needs sooner than its first log batch (at most 250 ms later).
   */
  linger?: boolean;
}

/** How long a lingering message waits for company. The log buffer's own flush interval. */
const LINGER_MS = 250;
/** A batch stays small: log batches above this go alone, as binary. */
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_ENTRIES = 1000;

export interface OutboxOptions {
  logger: Logger;
  /** Called once when the coordinator answers 409 lease-lost; the outbox has closed itself. */
  onLeaseLost: () => void;
  /**
   * Sends several queued messages as one request (`POST /attempts/:id/report`), applied by the
   * coordinator in one transaction. Without it, every message goes alone.
   */
  sendBatch?: (entries: ReportEntry[], signal: AbortSignal) => Promise<void>;
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
 *
 * Several small messages waiting at the head of the queue go as one batch (with `sendBatch`),
 * still in their order and applied all together, so a short step costs one request and one
 * transaction instead of three. A batch refused as a whole is dropped as a whole.
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
  /** The pump's current run: what a hand-off waits for. */
  private pumped: Promise<void> = Promise.resolve();
  private readonly sendBatch: OutboxOptions['sendBatch'];
  /** Lingering messages whose wait is over. */
  private readonly lingered = new WeakSet<OutboxMessage>();
  /** Ends a linger early: something was queued, or the queue is being handed off or closed. */
  private stopLingering: () => void = () => {};
  private handingOff = false;

  constructor(options: OutboxOptions) {
    this.logger = options.logger;
    this.onLeaseLost = options.onLeaseLost;
    this.backoff = new Backoff(options.backoff);
    this.outage = new OutageLog(options.logger, 'connected again; delivering queued reports');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.highWaterBytes = options.highWaterBytes ?? 32 * 1024 * 1024;
    this.lowWaterBytes = options.lowWaterBytes ?? this.highWaterBytes / 2;
    this.sendBatch = options.sendBatch;
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
    this.stopLingering();
    this.startPump();
  }

  /**
   * Stops sending and gives back what is still queued, once the request in flight (if any) is
   * done, for the worker to deliver with its next claim: when every message left can be an
   * entry of a batch. Otherwise delivers everything as usual and gives back nothing.
   */
  async handOff(): Promise<ReportEntry[]> {
    this.handingOff = true;
    this.stopLingering();
    await this.pumped;
    this.handingOff = false;
    if (this.closed) return [];
    const entries = this.queue.map((message) => message.entry?.());
    if (entries.every((entry) => entry !== undefined)) {
      this.queue.length = 0;
      this.queuedBytes = 0;
      this.notify();
      return entries;
    }
    this.startPump();
    await this.idle();
    return [];
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
    this.stopLingering();
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

  private startPump(): void {
    if (this.pumping || this.handingOff) return;
    this.pumped = this.pump();
  }

  private async pump(): Promise<void> {
    // Set and cleared in this same function, with no await between the last look at the queue and
    // the clearing, so a message queued the moment the queue runs dry (by a waiter of `idle()`)
    // always finds the pump either running or stopped, never between.
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed && !this.handingOff) {
        const head = this.queue[0] as OutboxMessage;
        if (head.linger && this.queue.length === 1 && !this.lingered.has(head)) {
          await this.linger();
          this.lingered.add(head);
          continue;
        }
        const count = this.batchLength();
        const messages = this.queue.slice(0, count);
        await this.deliver(count === 1 ? head : this.batchOf(messages));
        if (this.closed) return;
        this.queue.splice(0, count);
        for (const message of messages) this.queuedBytes -= message.bytes;
        this.notify();
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Waits up to LINGER_MS, or until something is queued, handed off or closed — and then to the
   * end of the current turn of the event loop: a step's end is followed in the same turn by the
   * next step's start or the attempt's end, which should go in the same request.
   */
  private linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, LINGER_MS);
      this.stopLingering = () => {
        clearTimeout(timer);
        setImmediate(resolve);
      };
    }).then(() => {
      this.stopLingering = () => {};
    });
  }

  /** How many messages from the head go in the next request: those that can be entries of a batch. */
  private batchLength(): number {
    if (!this.sendBatch) return 1;
    let count = 0;
    let bytes = 0;
    for (const message of this.queue) {
      if (!message.entry || count === MAX_BATCH_ENTRIES || bytes + message.bytes > MAX_BATCH_BYTES) break;
      count += 1;
      bytes += message.bytes;
    }
    return Math.max(1, count);
  }

  private batchOf(messages: readonly OutboxMessage[]): OutboxMessage {
    const send = this.sendBatch as NonNullable<OutboxOptions['sendBatch']>;
    return {
      description: messages.map((message) => message.description).join(', '),
      bytes: messages.reduce((sum, message) => sum + message.bytes, 0),
      send: (signal) =>
        send(
          messages.map((message) => (message.entry as () => ReportEntry)()),
          signal,
        ),
    };
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
