import { HealthCheck, ReplicaList } from '@switchyard/protocol';
import { readinessProblems, replicaListView } from '../../replicas/replica-status.ts';
import type { App } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

/** The farm's replicas and singleton leases, and this replica's health for a load balancer. */
export function registerReplicaRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/replicas',
    {
      schema: {
        operationId: 'listReplicas',
        tags: ['meta'],
        summary: 'The coordinator replicas sharing this database, alive or dead, and which holds each singleton loop',
        response: { 200: ReplicaList },
      },
    },
    async () => replicaListView(await ctx.store.replicas.list(), ctx.replica.id, ctx.replica.aliveWindowMs),
  );

  // A load balancer's probes: no token, since they say nothing about the farm.
  app.get(
    '/healthz',
    {
      config: { scopeFor: async () => null },
      schema: {
        operationId: 'health',
        tags: ['meta'],
        summary: 'The process is up and serving (liveness)',
        response: { 200: HealthCheck },
      },
    },
    async () => ({ status: 'ok' as const, replica: ctx.replica.id, problems: [] }),
  );

  app.get(
    '/readyz',
    {
      config: { scopeFor: async () => null },
      schema: {
        operationId: 'ready',
        tags: ['meta'],
        summary:
          'The replica can serve: its store answers and its change feed runs (readiness); 503 with the problems if not',
        response: { 200: HealthCheck, 503: HealthCheck },
      },
    },
    async (_request, reply) => {
      const storeError = await ctx.store.events.lastId().then(
        () => null,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      const problems = readinessProblems({
        storeError,
        feed: ctx.replica.feedHealth(),
        feedPollMs: ctx.replica.feedPollMs,
        now: performance.now(),
      });
      const status = problems.length === 0 ? ('ok' as const) : ('unavailable' as const);
      return reply.code(problems.length === 0 ? 200 : 503).send({ status, replica: ctx.replica.id, problems });
    },
  );
}
