import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import { StoreError } from '../store/errors.ts';
import type { EventStore, SingletonFence } from '../store/port.ts';
import type { EventLog } from './event-log.ts';
import { selectEvents } from './logged-event.ts';

const CURSOR_NAME = 'amqp';
const PAGE = 500;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface AmqpMetrics {
  published: Counter;
  connected: Gauge;
}

/**
 * Publishes every committed event to a RabbitMQ topic exchange under its routing key, reading
 * the event log from a cursor kept in the database. A page of events is published on a confirm
 * channel and the cursor moves only once the broker confirmed them all, so a broker outage or a
 * coordinator restart delays events and loses none (at least once: a restart between the
 * confirm and the cursor write publishes a page again; `messageId` is the event id).
 *
 * It runs on one replica at a time, under the `amqp-publisher` singleton (coordinator-context.ts):
 * its cursor moves only under the fence it was started with, so a replica that lost the lease
 * (paused past it, cut off) cannot move the cursor the new holder owns, and stops.
 */
export class AmqpPublisher {
  private readonly abort = new AbortController();
  private running: Promise<void> = Promise.resolve();
  private wakeFromRetry: () => void = () => {};

  constructor(
    private readonly cursors: Pick<EventStore, 'publisherCursor' | 'advancePublisherCursor'>,
    private readonly log: EventLog,
    private readonly target: { url: string; exchange: string },
    private readonly metrics: AmqpMetrics,
    private readonly logger: Logger,
    /** The singleton lease its cursor writes are fenced by. */
    private readonly fence?: SingletonFence,
  ) {}

  start(): void {
    this.running = this.run();
  }

  /** Settles when it stopped: closed, or its singleton lease lost. */
  get finished(): Promise<void> {
    return this.running;
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.wakeFromRetry();
    await this.running;
  }

  /** How far the exchange has been given the log; the first start begins at the end of it. */
  private cursor(): Promise<number> {
    return this.cursors.publisherCursor(CURSOR_NAME, this.log.lastId);
  }

  private saveCursor(cursor: number): Promise<void> {
    return this.cursors.advancePublisherCursor(CURSOR_NAME, cursor, this.fence);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    // Settled now, not at the first connection: what commits while the broker is down must go out.
    await this.cursor();
    let retryMs = FIRST_RETRY_MS;
    let outageSince: number | null = null;
    while (!signal.aborted) {
      let connection: ChannelModel | undefined;
      try {
        connection = await amqp.connect(this.target.url, { timeout: CONNECT_TIMEOUT_MS });
        const lost = new Promise<Error>((resolve) => {
          connection?.on('close', (error?: Error) => resolve(error ?? new Error('connection closed')));
          connection?.on('error', (error: Error) => resolve(error));
        });
        const channel = await connection.createConfirmChannel();
        await channel.assertExchange(this.target.exchange, 'topic', { durable: true });
        this.metrics.connected.set(1);
        if (outageSince !== null) {
          this.logger.info(
            { exchange: this.target.exchange, downMs: Date.now() - outageSince },
            'broker reachable again; publishing the events it missed',
          );
        }
        outageSince = null;
        retryMs = FIRST_RETRY_MS;
        await this.publishUntilLost(channel, lost);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof StoreError && error.kind === 'singleton-lost') {
          this.logger.warn({ err: error }, 'AMQP publisher stopped: another replica publishes now');
          break;
        }
        if (outageSince === null) {
          outageSince = Date.now();
          this.logger.warn(
            { err: error, exchange: this.target.exchange },
            'cannot publish to the broker; events wait in the log and go out once it is back',
          );
        }
      } finally {
        this.metrics.connected.set(0);
        await connection?.close().catch(() => {});
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        this.wakeFromRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  }

  /** Publishes pages of events as they commit; throws when the connection goes. */
  private async publishUntilLost(channel: ConfirmChannel, lost: Promise<Error>): Promise<void> {
    const signal = this.abort.signal;
    const everything = selectEvents({});
    let lostWith: Error | null = null;
    let wake: () => void = () => {};
    void lost.then((error) => {
      lostWith = error;
      wake();
    });
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    try {
      let cursor = await this.cursor();
      while (!signal.aborted) {
        if (lostWith) throw lostWith;
        const published = this.log.nextPublish();
        const page = await this.log.read(cursor, PAGE, everything);
        for (const logged of page.events) {
          channel.publish(this.target.exchange, logged.routingKey, Buffer.from(logged.json), {
            persistent: true,
            contentType: 'application/json',
            messageId: String(logged.event.id),
            type: logged.type,
            timestamp: Math.floor(Date.parse(logged.event.time) / 1000),
          });
        }
        // Rejects when the channel closes before the broker confirmed them all.
        if (page.events.length > 0) {
          await channel.waitForConfirms();
          this.metrics.published.inc(page.events.length);
        }
        if (page.cursor > cursor) {
          cursor = page.cursor;
          await this.saveCursor(cursor);
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (signal.aborted || lostWith) resolve();
          void published.then(resolve);
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
