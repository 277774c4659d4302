import { CreatePushRequest, ListPushesQuery, Push, PushList } from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

export function registerPushRoutes(app: App, ctx: ApiContext): void {
  app.post(
    '/api/v1/pushes',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'createPush',
        tags: ['pushes'],
        summary: 'Record a push; creates one job per builder that matches its repo and branch',
        body: CreatePushRequest,
        response: { 201: Type.Object({ push: Push }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const push = await ctx.store.pushes.create(ctx.farm(), request.body);
      return reply.code(201).send({ push });
    },
  );

  app.get(
    '/api/v1/pushes',
    {
      schema: {
        operationId: 'listPushes',
        tags: ['pushes'],
        summary:
          'Recent pushes, newest first, each with its jobs: filtered by repo, branch, author, revision prefix and result, a page at a time',
        querystring: ListPushesQuery,
        response: { 200: PushList, ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit = 50, ...filter } = request.query;
      // Taken before the read: whatever those events changed, the read sees.
      const cursor = ctx.events.lastId;
      // One more than asked for says whether an older page exists.
      const pushes = await ctx.store.pushes.list({ ...filter, limit: limit + 1 });
      const page = pushes.slice(0, limit);
      return { pushes: page, next: pushes.length > limit ? (page.at(-1)?.id ?? null) : null, cursor };
    },
  );

  app.get(
    '/api/v1/pushes/:id',
    {
      schema: {
        operationId: 'getPush',
        tags: ['pushes'],
        summary: 'One push with its jobs and their states',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.Object({ push: Push }), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ push: await ctx.store.pushes.get(request.params.id) }),
  );
}
