import type { EventFilter } from '@switchyard/protocol';
import type { EventRecord, EventStore } from '../store/port.ts';
import { type EventPage, type EventSelection, type LoggedEvent, toLoggedEvent } from './logged-event.ts';

/** The store is read in batches of this many ids: (0, 500], (500, 1000], … */
export const HISTORY_BATCH_IDS = 500;
/**
 * Batches kept after their read (32 × 500 events, some tens of MB): a thousand replaying readers
 * drift apart as their consumers drain at different speeds, and with 8 the bench's readers read
 * each batch about a hundred times over.
 */
const CACHED_BATCHES = 32;

/** What the history reports about itself (Prometheus in the coordinator, counters in tests). */
export interface HistoryMetrics {
  /** One store read of a batch. */
  read(): void;
  /** How many batches the cache holds now. */
  cached(count: number): void;
}

/** One batch of the table: every committed event with an id in (from, upTo], in id order. */
interface Batch {
  upTo: number;
  rows: Promise<EventRecord[]>;
  /** Each row's event, parsed and serialized the first time a reader wants it, then shared. */
  parsed: (LoggedEvent | undefined)[];
}

/**
 * The part of the log older than the memory ring, as readers replaying it see it: read from the
 * store in batches of `HISTORY_BATCH_IDS` ids, whatever each reader's filter, and shared. Readers
 * at the same place (a thousand dashboards resuming from `since=0`) share one store read and one
 * parse of each event; the last `cachedBatches` batches stay, so readers a little apart share
 * them too. A reader holds a batch only while it takes its page from it.
 */
export class EventHistory {
  /** By batch number; insertion order is recency of use. */
  private readonly batches = new Map<number, Batch>();

  constructor(
    private readonly store: Pick<EventStore, 'readAfter'>,
    private readonly metrics: HistoryMetrics,
    private readonly cachedBatches = CACHED_BATCHES,
  ) {}

  /**
   * The matching events after `afterId`, at most `limit`, from the batch that holds `afterId + 1`
   * and no further than `end` (the last id the change feed has published: everything up to it is
   * committed, so a cursor moved to it never passes over an event that commits later).
   */
  async read(afterId: number, end: number, limit: number, selection: EventSelection): Promise<EventPage> {
    const batch = this.batchAfter(afterId, end);
    const rows = await batch.rows;
    const events: LoggedEvent[] = [];
    for (let i = firstAfter(rows, afterId); i < rows.length; i++) {
      const row = rows[i] as EventRecord;
      if (!columnsAdmit(row, selection.filter)) continue;
      let logged = batch.parsed[i];
      if (logged === undefined) {
        logged = toLoggedEvent(row);
        batch.parsed[i] = logged;
      }
      if (!selection.matches(logged)) continue;
      events.push(logged);
      if (events.length >= limit) return { events, cursor: row.id };
    }
    return { events, cursor: batch.upTo };
  }

  /** The batch a read after `afterId` must take from the store first, or null when it is cached (or being read). */
  batchToRead(afterId: number): number | null {
    const number = Math.floor(afterId / HISTORY_BATCH_IDS);
    const cached = this.batches.get(number);
    return cached !== undefined && cached.upTo > afterId ? null : number;
  }

  /** The batch holding the events after `afterId`: cached, being read, or read now. */
  private batchAfter(afterId: number, end: number): Batch {
    const number = Math.floor(afterId / HISTORY_BATCH_IDS);
    const cached = this.batches.get(number);
    if (cached !== undefined) {
      this.batches.delete(number);
      // A batch cut short at the end of the log the last time serves readers inside it; one at
      // its end needs what has committed since.
      if (cached.upTo > afterId) {
        this.batches.set(number, cached);
        return cached;
      }
    }
    const from = number * HISTORY_BATCH_IDS;
    const upTo = Math.min(from + HISTORY_BATCH_IDS, end);
    // Ids are unique, so at most HISTORY_BATCH_IDS rows lie in (from, upTo]; rows past upTo
    // (committed after `end`) are the change feed's to hand out, not this batch's.
    const rows = this.store.readAfter(from, HISTORY_BATCH_IDS).then((read) => read.filter((row) => row.id <= upTo));
    const batch: Batch = { upTo, rows, parsed: [] };
    this.metrics.read();
    this.batches.set(number, batch);
    rows.catch(() => {
      // A failed read is not kept: the next reader of this batch reads it again.
      if (this.batches.get(number) === batch) this.batches.delete(number);
      this.metrics.cached(this.batches.size);
    });
    for (const oldest of this.batches.keys()) {
      if (this.batches.size <= this.cachedBatches) break;
      this.batches.delete(oldest);
    }
    this.metrics.cached(this.batches.size);
    return batch;
  }
}

/**
 * Whether a row's columns allow the filter's repo, branch, builder, job, push and types: the
 * columns hold what the event's data says about it (the writer sets them from the same job or
 * push), so a row they rule out is not parsed at all.
 */
export function columnsAdmit(row: EventRecord, filter: EventFilter): boolean {
  if (filter.types && filter.types.length > 0 && !filter.types.includes(row.type)) return false;
  if (filter.repo && row.repo !== filter.repo) return false;
  if (filter.branch && row.branch !== filter.branch) return false;
  if (filter.builder && row.builder !== filter.builder) return false;
  if (filter.job && row.job_id !== filter.job) return false;
  if (filter.push && row.push_id !== filter.push) return false;
  return true;
}

/** Index of the first row with an id above `afterId` (ids ascend). */
function firstAfter(rows: readonly EventRecord[], afterId: number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((rows[middle] as EventRecord).id <= afterId) low = middle + 1;
    else high = middle;
  }
  return low;
}
