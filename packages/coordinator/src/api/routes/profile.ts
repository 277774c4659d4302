import { CpuProfileQuery, PROFILE_PATHS, PROFILE_SECONDS, type ProfileKind } from '@switchyard/protocol';
import { reserveProfile } from '@switchyard/proxy/diagnostics';
import type { FastifyReply } from 'fastify';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

const File = { description: 'the file, as it is taken', type: 'string', format: 'binary' };

/** `switchyard profile`: a CPU profile or a heap snapshot of this coordinator, for admins. */
export function registerProfileRoutes(app: App, ctx: ApiContext): void {
  const send = (reply: FastifyReply, kind: ProfileKind, seconds: number) => {
    const profile = reserveProfile({ kind, seconds, service: 'coordinator', scratchDir: ctx.dataDir });
    reply.hijack();
    return profile.send(reply.raw, ctx.shutdown);
  };

  app.post(
    PROFILE_PATHS.cpu,
    {
      config: { scope: 'admin', longLived: true },
      schema: {
        operationId: 'takeCpuProfile',
        tags: ['operations'],
        summary:
          'Sample the coordinator for `seconds` and answer a .cpuprofile (Chrome DevTools, speedscope). The headers come ' +
          'when sampling starts, the body when it ends; one profile or heap snapshot at a time (409).',
        querystring: CpuProfileQuery,
        response: { 200: File, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => send(reply, 'cpu', request.query.seconds ?? PROFILE_SECONDS.default),
  );

  app.post(
    PROFILE_PATHS.heap,
    {
      config: { scope: 'admin', longLived: true },
      schema: {
        operationId: 'takeHeapSnapshot',
        tags: ['operations'],
        summary:
          'A heap snapshot of the coordinator (.heapsnapshot, for Chrome DevTools). The coordinator answers nothing ' +
          'while V8 walks its heap; the snapshot holds whatever the heap holds, so keep it as you keep credentials.',
        response: { 200: File, ...errorResponses(401, 403, 409) },
      },
    },
    async (_request, reply) => send(reply, 'heap', 0),
  );
}
