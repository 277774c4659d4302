import type { EventFilter, SwitchyardEvent } from '@switchyard/protocol';
import type { Queries } from '../store/queries.ts';
import type { CommittedEvent } from '../store/write-context.ts';
import { matchesFilter } from './event-filter.ts';

export interface EventPage {
  events: SwitchyardEvent[];
  /** Every event with an id up to this one has been looked at; resume after it. */
  cursor: number;
}

/**
 * The committed event log as readers see it: recent events from memory, older ones from the
 * database, and a wake-up for readers waiting at the end. Only committed events enter it, in id
 * order, so a reader that resumes after any id it was given sees no gap and no repeat.
 */
export class EventLog {
  private readonly recent: CommittedEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private last = 0;

  constructor(
    private readonly queries: Queries,
    private readonly capacity = 10_000,
  ) {}

  async init(): Promise<void> {
    this.last = await this.queries.lastEventId();
  }

  get lastId(): number {
    return this.last;
  }

  publish(events: readonly CommittedEvent[]): void {
    for (const committed of events) {
      this.recent.push(committed);
      this.last = committed.event.id;
    }
    // Trim in steps of a tenth, not on every commit: shifting the whole ring each time is O(n).
    if (this.recent.length > this.capacity * 1.1) this.recent.splice(0, this.recent.length - this.capacity);
    for (const wake of [...this.waiters]) wake();
  }

  async read(afterId: number, limit: number, filter: EventFilter): Promise<EventPage> {
    const end = this.last;
    const oldest = this.recent[0]?.event.id;
    if (oldest !== undefined && afterId >= oldest - 1) {
      const events: SwitchyardEvent[] = [];
      let cursor = afterId;
      for (const committed of this.recent) {
        if (committed.event.id <= afterId) continue;
        cursor = committed.event.id;
        if (matchesFilter(committed, filter)) events.push(committed.event);
        if (events.length >= limit) return { events, cursor };
      }
      return { events, cursor: Math.max(cursor, end) };
    }
    const events = await this.queries.readEvents(afterId, limit, filter);
    const lastRead = events.at(-1)?.id ?? afterId;
    return { events, cursor: events.length >= limit ? lastRead : Math.max(lastRead, end) };
  }

  /** Resolves when new events are published, or after `timeoutMs`. */
  waitForNew(afterId: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.last > afterId) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }
}
