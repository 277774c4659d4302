import type { EventStore } from '../store/port.ts';
import { EventHistory, type HistoryMetrics } from './event-history.ts';
import { HistoryTurns } from './history-turns.ts';
import { type EventPage, type EventSelection, type LoggedEvent, toLoggedEvent } from './logged-event.ts';

export interface EventLogOptions {
  /** Events kept in memory (the newest). */
  capacity?: number;
  /** Told of every store read of history and of how many batches are cached. */
  metrics?: HistoryMetrics;
}

const UNCOUNTED: HistoryMetrics = { read: () => {}, cached: () => {} };

/** A stream reader parked at the end of the log until an event it wants commits. */
interface MatchWaiter {
  /** Every event up to this id has been seen by the reader or found not to match. */
  cursor: number;
  selection: EventSelection;
  wake(): void;
}

/**
 * The committed event log as readers see it: recent events from memory, older ones from the
 * store in shared batches (`EventHistory`), and a wake-up for readers waiting at the end. The
 * change feed publishes into it, only committed events and in id order, so a reader that resumes
 * after any id it was given sees no gap and no repeat, also where it passes from history to the
 * ring and from the ring to what the feed publishes next. A reader within a page of the end reads
 * at once; one further behind waits its turn in `HistoryTurns`, so replays never starve the rest.
 */
export class EventLog {
  private readonly recent: LoggedEvent[] = [];
  private last = 0;
  private wake: () => void = () => {};
  private published: Promise<void> = this.nextWake();
  private readonly matchWaiters = new Set<MatchWaiter>();
  private readonly capacity: number;
  private readonly history: EventHistory;
  private readonly turns: HistoryTurns;

  constructor(
    private readonly store: Pick<EventStore, 'readAfter' | 'get'>,
    /** Where the change feed starts: every event up to it is read from the store. */
    start: number,
    options: EventLogOptions = {},
  ) {
    this.last = start;
    this.capacity = options.capacity ?? 10_000;
    this.history = new EventHistory(store, options.metrics ?? UNCOUNTED);
    this.turns = new HistoryTurns();
  }

  get lastId(): number {
    return this.last;
  }

  publish(added: readonly LoggedEvent[]): void {
    for (const logged of added) {
      this.recent.push(logged);
      this.last = logged.event.id;
    }
    // Trim in steps of a tenth, not on every commit: shifting the whole ring each time is O(n).
    if (this.recent.length > this.capacity * 1.1) this.recent.splice(0, this.recent.length - this.capacity);
    const wake = this.wake;
    this.published = this.nextWake();
    wake();
    // Filtered here, once per commit, so a stream whose filter lets nothing through is not woken.
    for (const waiter of this.matchWaiters) {
      if (added.some((logged) => logged.event.id > waiter.cursor && waiter.selection.matches(logged))) {
        this.matchWaiters.delete(waiter);
        waiter.wake();
      } else {
        // Never back: a reader may have asked to start after an id the log has not reached.
        waiter.cursor = Math.max(waiter.cursor, this.last);
      }
    }
  }

  /**
   * Waits at the end of the log until an event after `afterId` matches, or `signal` aborts;
   * resolves with the id to read after (past events that did not match).
   */
  waitForMatch(afterId: number, selection: EventSelection, signal: AbortSignal): Promise<number> {
    if (this.last > afterId || signal.aborted) return Promise.resolve(afterId);
    return new Promise((resolve) => {
      const waiter: MatchWaiter = {
        cursor: afterId,
        selection,
        wake: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(waiter.cursor);
        },
      };
      const onAbort = () => {
        this.matchWaiters.delete(waiter);
        waiter.wake();
      };
      signal.addEventListener('abort', onAbort);
      this.matchWaiters.add(waiter);
    });
  }

  /** Resolves at the next publish. One promise is shared by every waiting reader. */
  nextPublish(): Promise<void> {
    return this.published;
  }

  /**
   * The matching events after `afterId`, at most `limit`, and the cursor to resume after. A
   * reader within `limit` ids of the end is caught up and reads the ring at once; one further
   * behind is replaying and waits its turn.
   */
  async read(afterId: number, limit: number, selection: EventSelection): Promise<EventPage> {
    if (afterId >= this.last) return { events: [], cursor: afterId };
    if (this.inRing(afterId) && this.last - afterId <= limit) return this.readRecent(afterId, limit, selection);
    return this.turns.run(
      async () => {
        if (this.inRing(afterId)) return this.readRecent(afterId, limit, selection);
        return this.history.read(afterId, this.last, limit, selection);
      },
      this.inRing(afterId) ? null : this.history.batchToRead(afterId),
    );
  }

  /** One event by id, or undefined when there is none. */
  async get(id: number): Promise<LoggedEvent | undefined> {
    const index = this.firstAfter(id - 1);
    const cached = this.recent[index];
    if (cached?.event.id === id) return cached;
    const row = await this.store.get(id);
    return row ? toLoggedEvent(row) : undefined;
  }

  /** Whether the ring holds every event after `afterId`. */
  private inRing(afterId: number): boolean {
    const oldest = this.recent[0]?.event.id;
    return oldest !== undefined && afterId >= oldest - 1;
  }

  private readRecent(afterId: number, limit: number, selection: EventSelection): EventPage {
    const end = this.last;
    const events: LoggedEvent[] = [];
    let cursor = afterId;
    for (let i = this.firstAfter(afterId); i < this.recent.length; i++) {
      const logged = this.recent[i] as LoggedEvent;
      cursor = logged.event.id;
      if (selection.matches(logged)) events.push(logged);
      if (events.length >= limit) return { events, cursor };
    }
    return { events, cursor: Math.max(cursor, end) };
  }

  private nextWake(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Index of the first ring entry with an id above `afterId` (ids ascend). */
  private firstAfter(afterId: number): number {
    let low = 0;
    let high = this.recent.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.recent[middle] as LoggedEvent).event.id <= afterId) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
