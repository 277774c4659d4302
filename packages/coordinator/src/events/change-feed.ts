import type { Logger } from 'pino';
import type { CommitSignal, EventRecord, EventStore } from '../store/port.ts';
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
 *
 * A commit of this process comes with its rows, and so does another's whose notification had
 * room for them: when they follow the cursor with no gap, they are exactly what a read would
 * return first (no commit can add a smaller id later), so the feed delivers them without
 * reading. A gap (a commit whose rows did not come, an id a rolled-back transaction drew) means
 * a read.
 */
export class ChangeFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private running: Promise<void> | null = null;
  /** Whether a wake-up came, while a read or delivery ran, that only a read can answer. */
  private readAgain = false;
  /** Rows of commits announced with their rows while a read or delivery ran. */
  private committedMeanwhile: EventRecord[] = [];
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
    this.stopListening = this.commits.onCommit((lastEventId, events) => this.wake(lastEventId, events));
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.poll.unref();
    this.wake();
  }

  /**
   * Catches up with what committed since the cursor; calls made meanwhile fold into one more
   * turn. A commit of events up to `lastEventId` that the feed has read already needs nothing:
   * another coordinator's commit is often read with one of this one's before its notification
   * arrives. `committed`: the commit's rows, when they came with it.
   */
  wake(lastEventId: number | null = null, committed?: readonly EventRecord[]): void {
    if (this.stopped) return;
    if (lastEventId !== null && lastEventId <= this.cursor) return;
    if (committed) this.committedMeanwhile.push(...committed);
    else this.readAgain = true;
    if (!this.running) this.catchUp();
  }

  private catchUp(): void {
    const rows = this.readAgain ? null : this.takeFollowingRows();
    this.readAgain = false;
    this.committedMeanwhile = [];
    this.running = (rows ? this.deliverCommitted(rows) : this.drain()).finally(() => {
      this.running = null;
      if (this.stopped) return;
      this.committedMeanwhile = this.committedMeanwhile.filter((row) => row.id > this.cursor);
      if (this.readAgain || this.committedMeanwhile.length > 0) this.catchUp();
    });
  }

  /** The rows announced, if they continue the cursor without a gap; else null (read instead). */
  private takeFollowingRows(): EventRecord[] | null {
    const rows = this.committedMeanwhile.filter((row) => row.id > this.cursor).sort((a, b) => a.id - b.id);
    let expected = this.cursor + 1;
    for (const row of rows) {
      if (row.id !== expected) return null;
      expected += 1;
    }
    return rows;
  }

  /** Delivers after the committing verb's own turn, as a read would, not inside its call. */
  private async deliverCommitted(rows: readonly EventRecord[]): Promise<void> {
    await Promise.resolve();
    if (rows.length > 0 && !this.stopped) this.deliver(rows);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopListening();
    if (this.poll) clearInterval(this.poll);
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.events.readAfter(this.cursor, PAGE);
        this.lastReadAt = performance.now();
        if (rows.length === 0) return;
        // Rows of a commit of this process whose answer is still on its way: once it is told,
        // the subscribers know them as committed here (compaction starts where its end was committed).
        await this.commits.settled();
        this.deliver(rows);
        if (rows.length < PAGE) return;
      }
    } catch (error) {
      // The next commit or poll reads again from the same cursor: nothing is skipped.
      this.logger.error({ err: error }, 'reading the change feed failed; will retry');
    }
  }

  private deliver(rows: readonly EventRecord[]): void {
    const batch = rows.map(toLoggedEvent);
    this.cursor = (rows.at(-1) as EventRecord).id;
    for (const subscriber of this.subscribers) {
      try {
        subscriber(batch);
      } catch (error) {
        this.logger.error({ err: error }, 'a change feed subscriber failed; the others still get the events');
      }
    }
  }
}
