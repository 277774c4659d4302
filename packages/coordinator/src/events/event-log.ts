import {
  compileEventFilter,
  type EventFilter,
  eventAttributes,
  type FilterableEvent,
  routingKeyOf,
  type SwitchyardEvent,
} from '@switchyard/protocol';
import { iso } from '../store/mappers.ts';
import type { EventRecord, EventStore } from '../store/port.ts';

/** An event ready to hand out: what filters look at, and its JSON, serialized once for every reader. */
export interface LoggedEvent extends FilterableEvent {
  event: SwitchyardEvent;
  json: string;
}

/** A filter as given (the database narrows by its columns) and compiled (for everything else). */
export interface EventSelection {
  filter: EventFilter;
  matches(event: FilterableEvent): boolean;
}

export function selectEvents(filter: EventFilter): EventSelection {
  return { filter, matches: compileEventFilter(filter) };
}

/** A stream reader parked at the end of the log until an event it wants commits. */
interface MatchWaiter {
  /** Every event up to this id has been seen by the reader or found not to match. */
  cursor: number;
  selection: EventSelection;
  wake(): void;
}

export interface EventPage {
  events: LoggedEvent[];
  /** Every event with an id up to this one has been looked at; resume after it. */
  cursor: number;
}

/**
 * The committed event log as readers see it: recent events from memory, older ones from the
 * store, and a wake-up for readers waiting at the end. The change feed publishes into it, only
 * committed events and in id order, so a reader that resumes after any id it was given sees no
 * gap and no repeat.
 */
export class EventLog {
  private readonly recent: LoggedEvent[] = [];
  private last = 0;
  private wake: () => void = () => {};
  private published: Promise<void> = this.nextWake();
  private readonly matchWaiters = new Set<MatchWaiter>();

  constructor(
    private readonly store: Pick<EventStore, 'readAfter' | 'get'>,
    /** Where the change feed starts: every event up to it is read from the store. */
    start: number,
    private readonly capacity = 10_000,
  ) {
    this.last = start;
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

  async read(afterId: number, limit: number, selection: EventSelection): Promise<EventPage> {
    const end = this.last;
    const oldest = this.recent[0]?.event.id;
    if (oldest !== undefined && afterId >= oldest - 1) {
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
    const rows = await this.store.readAfter(afterId, limit, selection.filter);
    const events = rows.map(toLoggedEvent).filter((logged) => selection.matches(logged));
    const lastRead = rows.at(-1)?.id ?? afterId;
    return { events, cursor: rows.length >= limit ? lastRead : Math.max(lastRead, end) };
  }

  /** One event by id, or undefined when there is none. */
  async get(id: number): Promise<LoggedEvent | undefined> {
    const index = this.firstAfter(id - 1);
    const cached = this.recent[index];
    if (cached?.event.id === id) return cached;
    const row = await this.store.get(id);
    return row ? toLoggedEvent(row) : undefined;
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

/** A committed event row as readers get it, its JSON serialized once. */
export function toLoggedEvent(row: EventRecord): LoggedEvent {
  const data: unknown = JSON.parse(row.data);
  const attributes = eventAttributes(row.type, data);
  const routingKey = routingKeyOf(row.type, attributes);
  const event = { id: row.id, type: row.type, time: iso(row.created_at), routingKey, data } as SwitchyardEvent;
  return {
    event,
    attributes,
    type: row.type,
    routingKey,
    routingWords: routingKey.split('.'),
    json: JSON.stringify(event),
  };
}
