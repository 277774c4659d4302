import { Job, QueueView } from '@switchyard/protocol';
import Type from 'typebox';
import { schedulingPolicy } from '../../scheduler/live-policy.ts';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { queueByPool } from '../queue-view.ts';

/** The most pending jobs the queue view lists; past that, a farm has bigger problems than a page. */
const MAX_QUEUED = 1000;

/** Read views the dashboard needs beyond the resources themselves: the queues, a job's history. */
export function registerFarmViewRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/queue',
    {
      schema: {
        operationId: 'getQueue',
        tags: ['workers'],
        summary: `Pending jobs per pool in the order they will run (at most ${MAX_QUEUED}), with positions and aged priorities`,
        response: { 200: QueueView, ...errorResponses(400) },
      },
    },
    async () => {
      const pending = await ctx.store.jobs.list({ states: ['pending'], limit: MAX_QUEUED });
      return queueByPool(pending, schedulingPolicy(ctx.farm()), Date.now());
    },
  );

  app.get(
    '/api/v1/jobs/:id/similar',
    {
      schema: {
        operationId: 'getSimilarJobs',
        tags: ['jobs'],
        summary:
          "The same builder's recent jobs on the job's repo and branch, newest first: an intermittent failure or a new one?",
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })) }),
        response: { 200: Type.Object({ jobs: Type.Array(Job) }), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const job = await ctx.store.jobs.get(request.params.id);
      const limit = request.query.limit ?? 20;
      const jobs = await ctx.store.jobs.list({
        repo: job.repo,
        branch: job.branch,
        builder: job.builder,
        limit: limit + 1,
      });
      return { jobs: jobs.filter((other) => other.id !== job.id).slice(0, limit) };
    },
  );
}
