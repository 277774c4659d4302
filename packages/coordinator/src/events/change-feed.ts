import type { Logger } from 'pino';
import type { CommitSignal, EventStore } from '../store/port.ts';
import { type LoggedEvent, toLoggedEvent } from './logged-event.ts';

const PAGE = 1000;

export type FeedSubscriber = (batch: readonly LoggedEvent[]) => void;

/**
 * The one way committed changes reach the rest of the coordinator: it tails the events table by
 * id and hands each new batch, in id order, to every subscriber (the event streams, claim offers,
 * log follow, heartbeat cancel, log compression, webhooks, the broker). It reads when the store
 * says something committed — in this process, or in another through the database's
 * notifications — and every `pollMs` besides, so a lost wake-up costs at most one poll.
 * Because event ids are handed out in commit order, `id > cursor` never skips a row.
 */
export class ChangeFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private stopped = false;
  private stopListening: () => void = () => {};
  private poll: NodeJS.Timeout | null = null;
  /** When the log was last read without error (this process's monotonic clock, ms). */
  private lastReadAt: number | null = null;

  constructor(
    private readonly events: Pick<EventStore, 'readAfter'>,
    private readonly commits: CommitSignal,
    /** The last event id already handled: the feed delivers what commits after it. */
    private cursor: number,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  get position(): number {
    return this.cursor;
  }

  /** Whether the feed runs and when it last read the log (`performance.now()`), for `/readyz`. */
  get health(): { running: boolean; lastReadAt: number | null } {
    return { running: this.poll !== null && !this.stopped, lastReadAt: this.lastReadAt };
  }

  subscribe(subscriber: FeedSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  start(): void {
    this.stopListening = this.commits.onCommit((lastEventId) => this.wake(lastEventId));
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.poll.unref();
    this.wake();
  }

  /**
   * Reads what committed since the cursor; calls made while a read runs fold into one more read.
   * A commit of events up to `lastEventId` that the feed has read already needs no read: another
   * coordinator's commit is often read with one of this one's before its notification arrives.
   */
  wake(lastEventId: number | null = null): void {
    if (this.stopped) return;
    if (lastEventId !== null && lastEventId <= this.cursor) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.drain().finally(() => {
      this.reading = null;
      if (this.readAgain && !this.stopped) {
        this.readAgain = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopListening();
    if (this.poll) clearInterval(this.poll);
    await this.reading;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.events.readAfter(this.cursor, PAGE);
        this.lastReadAt = performance.now();
        if (rows.length === 0) return;
        const batch = rows.map(toLoggedEvent);
        this.cursor = (rows.at(-1) as { id: number }).id;
        for (const subscriber of this.subscribers) {
          try {
            subscriber(batch);
          } catch (error) {
            this.logger.error({ err: error }, 'a change feed subscriber failed; the others still get the events');
          }
        }
        if (rows.length < PAGE) return;
      }
    } catch (error) {
      // The next commit or poll reads again from the same cursor: nothing is skipped.
      this.logger.error({ err: error }, 'reading the change feed failed; will retry');
    }
  }
}
