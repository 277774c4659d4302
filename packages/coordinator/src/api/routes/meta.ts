import { ServerInfo } from '@switchyard/protocol';
import type { App } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

export function registerMetaRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/server',
    {
      schema: {
        operationId: 'serverInfo',
        tags: ['meta'],
        summary: 'Version, whether auth is on, and the configured pools and builders',
        response: { 200: ServerInfo },
      },
    },
    async () => {
      const farm = ctx.farm();
      return {
        name: 'switchyard' as const,
        version: ctx.version,
        auth: farm.tokens !== null,
        publicRead: farm.tokens === null || farm.publicRead,
        pools: [...new Set(farm.builders.map((b) => b.pool))].sort(),
        builders: farm.builders.map((b) => ({ name: b.name, repo: b.repo.name, pool: b.pool })),
      };
    },
  );

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const metrics = ctx.metrics;
    metrics.jobs.reset();
    for (const row of await ctx.store.jobs.countsByState()) {
      metrics.jobs.set({ state: row.state, pool: row.pool }, row.count);
    }
    metrics.workers.reset();
    for (const worker of await ctx.store.workers.list()) metrics.workers.inc({ state: worker.state });
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
