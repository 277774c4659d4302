import { ApiError, JOB_STATES, Job, JobDetail, ListJobsQuery, quoted } from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

const JobParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export function registerJobRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/jobs',
    {
      schema: {
        operationId: 'listJobs',
        tags: ['jobs'],
        summary: 'Jobs, newest first, filtered by state (comma-separated), repo, branch, builder or pool',
        querystring: ListJobsQuery,
        response: { 200: Type.Object({ jobs: Type.Array(Job) }), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { state, repo, branch, builder, pool, limit, before } = request.query;
      const states = state ? state.split(/[,|]/).map((s) => s.trim()) : undefined;
      const unknown = states?.find((s) => !(JOB_STATES as readonly string[]).includes(s));
      if (unknown !== undefined) {
        throw new ApiError('invalid-request', `unknown job state ${quoted(unknown)}`, { known: JOB_STATES });
      }
      return { jobs: await ctx.store.jobs.list({ states, repo, branch, builder, pool, before, limit: limit ?? 100 }) };
    },
  );

  app.get(
    '/api/v1/jobs/:id',
    {
      schema: {
        operationId: 'getJob',
        tags: ['jobs'],
        summary: 'A job with its attempts (worker, times, result) and their steps (exit codes, durations)',
        params: JobParams,
        response: { 200: Type.Object({ job: JobDetail }), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({
      job: await ctx.store.jobs.get(request.params.id, ctx.broker.waitingWorkers(), ctx.farm().scheduling.agingMs),
    }),
  );

  app.post(
    '/api/v1/jobs/:id/cancel',
    {
      config: { scope: 'cancel' },
      schema: {
        operationId: 'cancelJob',
        tags: ['jobs'],
        summary: 'Cancel a job; a running one has its process group killed on the worker',
        params: JobParams,
        response: { 200: Type.Object({ job: Job }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => ({ job: await ctx.store.jobs.cancel(request.params.id) }),
  );

  app.post(
    '/api/v1/jobs/:id/retrigger',
    {
      config: { scope: 'cancel' },
      schema: {
        operationId: 'retriggerJob',
        tags: ['jobs'],
        summary: 'Run a finished job again, as a new job of the same push and builder',
        params: JobParams,
        response: { 201: Type.Object({ job: Job }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) =>
      reply.code(201).send({ job: await ctx.store.jobs.retrigger(ctx.farm(), request.params.id) }),
  );
}
