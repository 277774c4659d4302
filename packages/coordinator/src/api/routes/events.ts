import type { ServerResponse } from 'node:http';
import Type from 'typebox';
import type { LoggedEvent } from '../../events/logged-event.ts';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { DRAIN_TIMEOUT_MS, type EventSink, EventsQuery, openEventStream, pumpEvents } from '../event-stream.ts';
import { streamLifetime } from '../stream-lifetime.ts';

export function registerEventRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/events',
    {
      config: { longLived: true },
      schema: {
        operationId: 'streamEvents',
        tags: ['events'],
        summary:
          'Server-Sent Events: every committed event with its id. Resume with Last-Event-ID or ?since=; without either, only new events.',
        querystring: EventsQuery,
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { cursor, selection } = openEventStream(request.query, request.headers['last-event-id'], ctx.events);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // HEAD asks for the headers only: a stream without a body would otherwise never end.
      if (request.method === 'HEAD') {
        out.end();
        return;
      }
      const lifetime = streamLifetime(request, ctx);
      // `ready` names where this stream starts, so a client that saw no event yet can still
      // resume without a gap after a reconnect.
      out.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ cursor })}\n\n`);
      ctx.metrics.sseClients.inc();
      try {
        await pumpEvents(ctx.events, cursor, selection, sseSink(out), lifetime.signal, ctx.metrics.streamPagesUnsent);
      } finally {
        ctx.metrics.sseClients.dec();
        lifetime.release();
        out.end();
      }
    },
  );
}

/** The SSE frame of an event, built once and shared by every stream that sends it. */
const frames = new WeakMap<LoggedEvent, string>();
function sseFrame(logged: LoggedEvent): string {
  let frame = frames.get(logged);
  if (frame === undefined) {
    frame = `id: ${logged.event.id}\nevent: ${logged.type}\ndata: ${logged.json}\n\n`;
    frames.set(logged, frame);
  }
  return frame;
}

function sseSink(out: ServerResponse): EventSink {
  return {
    send(events) {
      let chunk = '';
      for (const logged of events) chunk += sseFrame(logged);
      return out.write(chunk);
    },
    bufferedBytes: () => out.writableLength,
    drained: (signal) => drained(out, signal),
    heartbeat() {
      out.write(': heartbeat\n\n');
    },
    dropped(reason, resumeAfter) {
      out.write(`event: dropped\ndata: ${JSON.stringify({ reason, resumeAfter })}\n\n`);
      // A stalled consumer may never read what is still buffered for it: let it go, memory and all.
      const timer = setTimeout(() => out.destroy(), DRAIN_TIMEOUT_MS);
      timer.unref();
      out.once('close', () => clearTimeout(timer));
    },
  };
}

function drained(out: ServerResponse, signal: AbortSignal): Promise<boolean> {
  if (!out.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      out.off('drain', onDrain);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onDrain = () => finish(true);
    const onAbort = () => finish(true);
    const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
    out.on('drain', onDrain);
    signal.addEventListener('abort', onAbort);
  });
}
