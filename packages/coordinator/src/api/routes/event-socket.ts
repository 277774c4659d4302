import type { WebSocket } from 'ws';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { DRAIN_TIMEOUT_MS, type EventSink, EventsQuery, openEventStream, pumpEvents } from '../event-stream.ts';

/**
 * Past this much unsent data the stream waits for the consumer before reading on: a socket's own
 * high-water mark, as for SSE, so a page is read only once the consumer has taken the last.
 */
const HIGH_WATER_BYTES = 16 * 1024;
/** The close code of a consumer dropped for being too slow (4000–4999 are the application's). */
const CLOSE_TOO_SLOW = 4008;

/**
 * The event stream over a WebSocket, for browsers and for clients behind proxies that buffer
 * SSE. Text messages with an `id` are events; `ready`, `heartbeat` and `dropped` are control
 * messages without one.
 */
export function registerEventSocketRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/events/ws',
    {
      websocket: true,
      config: { longLived: true },
      schema: {
        operationId: 'streamEventsWebSocket',
        tags: ['events'],
        summary:
          'The event stream over a WebSocket: the same filters, resume (?since= or Last-Event-ID), heartbeats and slow-consumer drop as /api/v1/events.',
        querystring: EventsQuery,
        response: { 101: { description: 'switching to the WebSocket protocol', type: 'null' }, ...errorResponses(400) },
      },
      // A bad filter is a 400 before the upgrade, not a socket closed without a word.
      preHandler: async (request) => {
        openEventStream(request.query, request.headers['last-event-id'], ctx.events);
      },
    },
    (socket, request) => {
      const { cursor, selection } = openEventStream(request.query, request.headers['last-event-id'], ctx.events);
      const abort = new AbortController();
      const stop = () => abort.abort();
      socket.on('close', stop);
      ctx.shutdown.addEventListener('abort', stop);
      socket.send(JSON.stringify({ type: 'ready', cursor }));
      ctx.metrics.sseClients.inc();
      const sink = socketSink(socket);
      pumpEvents(ctx.events, cursor, selection, sink, abort.signal, ctx.metrics.streamPagesUnsent)
        .catch((error: unknown) => request.log.error({ err: error }, 'event socket failed'))
        .finally(() => {
          ctx.metrics.sseClients.dec();
          ctx.shutdown.removeEventListener('abort', stop);
          socket.off('close', stop);
          if (socket.readyState === socket.OPEN) socket.close(1001, 'coordinator shutting down');
        });
    },
  );
}

function socketSink(socket: WebSocket): EventSink {
  let unsent = 0;
  let onFlushed: (() => void) | null = null;
  const flushed = (bytes: number) => () => {
    unsent -= bytes;
    if (unsent < HIGH_WATER_BYTES && onFlushed) onFlushed();
  };
  const control = (message: object) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  return {
    send(events) {
      for (const logged of events) {
        unsent += logged.json.length;
        socket.send(logged.json, flushed(logged.json.length));
      }
      return unsent < HIGH_WATER_BYTES;
    },
    bufferedBytes: () => unsent,
    drained(signal) {
      if (unsent < HIGH_WATER_BYTES) return Promise.resolve(true);
      return new Promise((resolve) => {
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          onFlushed = null;
          signal.removeEventListener('abort', onAbort);
          resolve(ok);
        };
        const onAbort = () => finish(true);
        const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
        onFlushed = () => finish(true);
        signal.addEventListener('abort', onAbort);
      });
    },
    heartbeat(cursor) {
      control({ type: 'heartbeat', cursor });
    },
    dropped(reason, resumeAfter) {
      control({ type: 'dropped', reason, resumeAfter });
      socket.close(CLOSE_TOO_SLOW, 'consumer too slow');
    },
  };
}
