import { LogQuery } from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { streamLifetime } from '../stream-lifetime.ts';

export function registerLogRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/jobs/:id/log',
    {
      config: { longLived: (request) => isFollow(request.query as { follow?: string }) },
      schema: {
        operationId: 'getJobLog',
        tags: ['jobs'],
        summary: 'The log of the latest attempt (or ?attempt=N) as plain text; ?follow=1 streams until the job ends',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        querystring: LogQuery,
        response: { 200: { description: 'text/plain log', type: 'string' }, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { attempt, stream } = request.query;
      const follow = isFollow(request.query);
      // Fail before the first byte if the job or attempt doesn't exist.
      await ctx.store.jobs.findAttempt(request.params.id, attempt);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      // HEAD asks for the headers only; a followed log would otherwise wait for the job to end.
      if (request.method === 'HEAD') {
        out.end();
        return;
      }
      const lifetime = streamLifetime(request, ctx);
      const signal = lifetime.signal;
      // Waits for a full socket to drain, or for the reader to leave (then `drain` never comes).
      const write = (data: Buffer) =>
        new Promise<void>((resolve) => {
          if (signal.aborted || out.write(data)) {
            resolve();
            return;
          }
          const done = () => {
            out.off('drain', done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          out.on('drain', done);
          signal.addEventListener('abort', done);
        });
      try {
        await ctx.logs.render(request.params.id, attempt, { follow, stream, signal, write });
      } catch (error) {
        request.log.error({ err: error }, 'log rendering failed');
        out.write(`\n[switchyard: log unavailable: ${(error as Error).message}]\n`);
      } finally {
        lifetime.release();
        out.end();
      }
    },
  );
}

function isFollow(query: { follow?: string | undefined }): boolean {
  return query.follow === '1' || query.follow === 'true';
}
