import { ApiError, EVENT_TYPES, type EventFilter } from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app.ts';
import type { ApiContext } from '../context.ts';
import { streamLifetime } from '../stream-lifetime.ts';

const HEARTBEAT_MS = 15_000;
const PAGE = 500;
/** A consumer whose socket holds this much unsent data is too slow and is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 30_000;

const EventsQuery = Type.Object({
  types: Type.Optional(Type.String({ description: 'comma-separated event types' })),
  repo: Type.Optional(Type.String()),
  branch: Type.Optional(Type.String()),
  builder: Type.Optional(Type.String()),
  job: Type.Optional(Type.Integer({ minimum: 1 })),
  push: Type.Optional(Type.Integer({ minimum: 1 })),
  since: Type.Optional(
    Type.Integer({ minimum: 0, description: 'resume after this event id (0: from the start); Last-Event-ID wins' }),
  ),
});

export function registerEventRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/events',
    {
      schema: {
        operationId: 'streamEvents',
        tags: ['events'],
        summary:
          'Server-Sent Events: every committed event with its id. Resume with Last-Event-ID or ?since=; without either, only new events.',
        querystring: EventsQuery,
        response: { 200: { description: 'text/event-stream', type: 'string' }, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { types, repo, branch, builder, job, push, since } = request.query;
      const typeList = types
        ? types
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : undefined;
      const unknown = typeList?.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (unknown !== undefined) {
        throw new ApiError('invalid-request', `unknown event type "${unknown}"`, { known: EVENT_TYPES });
      }
      const lastEventId = request.headers['last-event-id'];
      let cursor: number;
      if (typeof lastEventId === 'string' && lastEventId !== '') {
        cursor = Number(lastEventId);
        if (!Number.isInteger(cursor) || cursor < 0) {
          throw new ApiError('invalid-request', `Last-Event-ID must be an event id, got "${lastEventId}"`);
        }
      } else {
        cursor = since ?? ctx.events.lastId;
      }
      // An empty parameter (`?repo=`) means no filter, as it does for the database query.
      const filter: EventFilter = {
        types: typeList,
        repo: repo || undefined,
        branch: branch || undefined,
        builder: builder || undefined,
        job,
        push,
      };

      const lifetime = streamLifetime(request, ctx);
      const signal = lifetime.signal;
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // `ready` names where this stream starts, so a client that saw no event yet can still
      // resume without a gap after a reconnect.
      out.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ cursor })}\n\n`);
      ctx.metrics.sseClients.inc();
      try {
        while (!signal.aborted) {
          const page = await ctx.events.read(cursor, PAGE, filter);
          let chunk = '';
          for (const event of page.events) {
            chunk += `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
          }
          cursor = page.cursor;
          if (chunk !== '') {
            if (!out.write(chunk) && !(await drained(out, signal))) {
              dropSlowConsumer(out, cursor);
              return;
            }
            if (out.writableLength > MAX_BUFFERED_BYTES) {
              dropSlowConsumer(out, cursor);
              return;
            }
            continue;
          }
          await ctx.events.waitForNew(cursor, HEARTBEAT_MS, signal);
          if (ctx.events.lastId <= cursor && !signal.aborted) out.write(': heartbeat\n\n');
        }
      } finally {
        ctx.metrics.sseClients.dec();
        lifetime.release();
        out.end();
      }
    },
  );
}

function drained(out: import('node:http').ServerResponse, signal: AbortSignal): Promise<boolean> {
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

function dropSlowConsumer(out: import('node:http').ServerResponse, cursor: number): void {
  out.write(`event: dropped\ndata: ${JSON.stringify({ reason: 'consumer too slow', resumeAfter: cursor })}\n\n`);
}
