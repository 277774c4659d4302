import {
  BuilderStats,
  LastGreen,
  Line,
  PushTimes,
  StatsQuery,
  WaitTimes,
  WorkerUtilisation,
} from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

export function registerStatsRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/repos/:repo/branches/:branch/last-green',
    {
      schema: {
        operationId: 'lastGreen',
        tags: ['stats'],
        summary:
          'The newest push of a branch whose every job succeeded (a retriggered job counts by its newest run); 404 when none. URL-encode a branch with slashes (release%2F1.0).',
        params: Type.Object({ repo: Line(), branch: Line() }),
        response: { 200: LastGreen, ...errorResponses(400, 404) },
      },
    },
    async (request) => ctx.store.stats.lastGreen(request.params.repo, request.params.branch),
  );

  app.get(
    '/api/v1/stats/pushes',
    {
      schema: {
        operationId: 'pushTimes',
        tags: ['stats'],
        summary: 'End-to-end time per push (push → its last job final), per repo and branch, with its trend',
        querystring: StatsQuery,
        response: { 200: PushTimes, ...errorResponses(400) },
      },
    },
    async (request) => ctx.store.stats.pushTimes(request.query),
  );

  app.get(
    '/api/v1/stats/waits',
    {
      schema: {
        operationId: 'waitTimes',
        tags: ['stats'],
        summary: 'Wait time (pending → started) per pool, with its trend',
        querystring: StatsQuery,
        response: { 200: WaitTimes, ...errorResponses(400) },
      },
    },
    async (request) => ctx.store.stats.waitTimes(request.query),
  );

  app.get(
    '/api/v1/stats/builders',
    {
      schema: {
        operationId: 'builderStats',
        tags: ['stats'],
        summary: 'Per builder, slowest first: durations (median, p90, trend), failure and exception rates',
        querystring: StatsQuery,
        response: { 200: BuilderStats, ...errorResponses(400) },
      },
    },
    async (request) => ctx.store.stats.builderStats(request.query),
  );

  app.get(
    '/api/v1/stats/workers',
    {
      schema: {
        operationId: 'workerUtilisation',
        tags: ['stats'],
        summary: 'Per worker and pool: the share of the time in the window spent running attempts',
        querystring: StatsQuery,
        response: { 200: WorkerUtilisation, ...errorResponses(400) },
      },
    },
    async (request) => ctx.store.stats.workerUtilisation(request.query),
  );
}
