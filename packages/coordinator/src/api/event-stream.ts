import {
  ApiError,
  EVENT_TYPES,
  type EventFilter,
  JOB_STATES,
  Line,
  quoted,
  routingPatternProblem,
} from '@switchyard/protocol';
import type { Gauge } from 'prom-client';
import Type from 'typebox';
import type { EventLog } from '../events/event-log.ts';
import { type EventSelection, type LoggedEvent, selectEvents } from '../events/logged-event.ts';

const HEARTBEAT_MS = 15_000;
const PAGE = 500;
/** A consumer that holds this much unsent data is too slow and is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** How long a sink waits for its consumer to take what it was sent. */
export const DRAIN_TIMEOUT_MS = 30_000;

/** The query of both event streams (SSE and WebSocket). */
export const EventsQuery = Type.Object({
  types: Type.Optional(Line({ description: 'comma-separated event types' })),
  repo: Type.Optional(Line()),
  branch: Type.Optional(Line()),
  builder: Type.Optional(Line()),
  result: Type.Optional(Line({ description: 'a final job state, or the state of a finished attempt or step' })),
  author: Type.Optional(Line({ description: 'the author in full, or only the name or the e-mail address' })),
  routing_key: Type.Optional(
    Line({ description: 'topic pattern over the routing key: `*` is one word, `#` zero or more' }),
  ),
  job: Type.Optional(Type.Integer({ minimum: 1 })),
  push: Type.Optional(Type.Integer({ minimum: 1 })),
  since: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'resume after this event id (0: from the start); Last-Event-ID wins',
    }),
  ),
});
export type EventsQuery = Type.Static<typeof EventsQuery>;

/** Checks a filter from any source (stream query, webhook subscription) and says what is wrong. */
export function checkEventFilter(filter: EventFilter): void {
  const unknown = filter.types?.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown !== undefined) {
    throw new ApiError('invalid-request', `unknown event type ${quoted(unknown)}`, { known: EVENT_TYPES });
  }
  if (filter.result !== undefined && !(JOB_STATES as readonly string[]).includes(filter.result)) {
    throw new ApiError('invalid-request', `unknown result ${quoted(filter.result)}`, { known: JOB_STATES });
  }
  const problem = filter.routingKey === undefined ? null : routingPatternProblem(filter.routingKey);
  if (problem !== null) throw new ApiError('invalid-request', problem, { field: 'routing_key' });
}

/** Where a stream starts and what it lets through, from its query and `Last-Event-ID`. */
export function openEventStream(
  query: EventsQuery,
  lastEventIdHeader: string | string[] | undefined,
  log: EventLog,
): { cursor: number; selection: EventSelection } {
  const types = query.types
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  // An empty parameter (`?repo=`) means no filter, as it does for the database query.
  const filter: EventFilter = {
    types: types && types.length > 0 ? types : undefined,
    repo: query.repo || undefined,
    branch: query.branch || undefined,
    builder: query.builder || undefined,
    result: query.result || undefined,
    author: query.author || undefined,
    routingKey: query.routing_key || undefined,
    job: query.job,
    push: query.push,
  };
  checkEventFilter(filter);
  let cursor: number;
  if (typeof lastEventIdHeader === 'string' && lastEventIdHeader !== '') {
    cursor = Number(lastEventIdHeader);
    // Digits only: Number() also reads "0x10", " 5" and "1e300", an id that never comes.
    if (!/^[0-9]+$/.test(lastEventIdHeader) || !Number.isSafeInteger(cursor)) {
      throw new ApiError('invalid-request', `Last-Event-ID must be an event id, got ${quoted(lastEventIdHeader)}`);
    }
  } else {
    cursor = query.since ?? log.lastId;
  }
  return { cursor, selection: selectEvents(filter) };
}

/** A transport for an event stream: SSE over a response, or a WebSocket. */
export interface EventSink {
  /** Sends events in order; false when the transport wants to drain first. */
  send(events: readonly LoggedEvent[]): boolean;
  /** Bytes accepted but not yet handed to the network. */
  bufferedBytes(): number;
  /** Resolves true once drained, false if it does not drain in time. */
  drained(signal: AbortSignal): Promise<boolean>;
  heartbeat(cursor: number): void;
  dropped(reason: string, resumeAfter: number): void;
}

/**
 * Feeds a sink every matching event after `cursor`, in id order, until `signal` aborts. A page
 * at a time: the next is read only once the consumer has taken the last (`unsent` counts the
 * pages waiting for that, one per stream at most), so a slow consumer holds one page, not the
 * history it is behind. A consumer that can't drain is told why and where to resume, and is not
 * buffered for.
 */
export async function pumpEvents(
  log: EventLog,
  start: number,
  selection: EventSelection,
  sink: EventSink,
  signal: AbortSignal,
  unsent: Pick<Gauge, 'inc' | 'dec'>,
): Promise<void> {
  let cursor = start;
  let sentSinceTick = false;
  const ticker = setInterval(() => {
    if (!sentSinceTick) sink.heartbeat(cursor);
    sentSinceTick = false;
  }, HEARTBEAT_MS);
  try {
    while (!signal.aborted) {
      const page = await sendPage(log, cursor, selection, sink);
      cursor = page.cursor;
      if (page.sent) {
        sentSinceTick = true;
        if (sink.bufferedBytes() > MAX_BUFFERED_BYTES) {
          sink.dropped(`consumer too slow: more than ${MAX_BUFFERED_BYTES} bytes unsent`, cursor);
          return;
        }
        if (!page.flowing) {
          unsent.inc();
          const drained = await sink.drained(signal);
          unsent.dec();
          if (!drained) {
            sink.dropped('consumer too slow: it read nothing for 30 s while events waited', cursor);
            return;
          }
        }
        continue;
      }
      cursor = await log.waitForMatch(cursor, selection, signal);
    }
  } finally {
    clearInterval(ticker);
  }
}

/**
 * Reads the page after `cursor` and hands it to the sink. Only the outcome comes back, so a
 * stream waiting for its consumer keeps no reference to the page's events.
 */
async function sendPage(
  log: EventLog,
  cursor: number,
  selection: EventSelection,
  sink: EventSink,
): Promise<{ cursor: number; sent: boolean; flowing: boolean }> {
  const page = await log.read(cursor, PAGE, selection);
  if (page.events.length === 0) return { cursor: page.cursor, sent: false, flowing: true };
  return { cursor: page.cursor, sent: true, flowing: sink.send(page.events) };
}
