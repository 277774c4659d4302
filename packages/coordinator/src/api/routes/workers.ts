import {
  ApiError,
  AttemptFinishedRequest,
  AttemptReportRequest,
  AttemptReportResponse,
  ClaimAfterReportRequest,
  ClaimAfterReportResponse,
  HeartbeatResponse,
  LOG_CONTENT_TYPE,
  LogAppendQuery,
  LogAppendResponse,
  type ReportEntry,
  StepFinishedRequest,
  StepStartedRequest,
  WORKER_PROTOCOL_HEADER,
  Worker,
} from '@switchyard/protocol';
import Type from 'typebox';
import { StoreError } from '../../store/errors.ts';
import type { CheckedIn, ClaimAfterReport } from '../../store/port.ts';
import { type App, errorResponses } from '../app-types.ts';
import { checkAttemptCredential } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { apiErrorOf } from '../store-errors.ts';
import { workerProtocolRefusal } from '../worker-protocol.ts';

const WorkerName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const AttemptParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const StepParams = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  index: Type.Integer({ minimum: 0, maximum: 1000 }),
});
const Ok = Type.Object({ ok: Type.Literal(true) });

/** The worker protocol: long-poll claims, heartbeats that renew leases, and ordered reports. */
export function registerWorkerRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/workers',
    {
      schema: {
        operationId: 'listWorkers',
        tags: ['workers'],
        summary: 'Every worker seen: pool, tags, state, current job, last seen',
        response: { 200: Type.Object({ workers: Type.Array(Worker) }) },
      },
    },
    async () => ({ workers: await ctx.store.workers.list() }),
  );

  app.delete(
    '/api/v1/workers/:name/credential',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'releaseWorkerCredential',
        tags: ['workers'],
        summary:
          'Forget which token a worker is bound to (its first claim bound it), so that it may claim with another: after renaming its token',
        params: Type.Object({ name: WorkerName }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await ctx.store.workers.releaseCredential(request.params.name);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/workers/:name/claim',
    {
      config: { scope: 'worker', longLived: true },
      schema: {
        operationId: 'claimWork',
        tags: ['worker protocol'],
        summary:
          'Ask for a job; held up to waitSeconds (at most server.claim_wait_seconds, 25 s), then answers null. With `report`, the last reports of the attempt just ended are applied first',
        params: Type.Object({ name: WorkerName }),
        body: ClaimAfterReportRequest,
        response: { 200: ClaimAfterReportResponse, ...errorResponses(400, 401, 403) },
      },
      // Before the body is validated: a worker of another protocol may send a body this
      // coordinator would refuse for a reason that doesn't tell its operator what to do.
      preValidation: async (request) => {
        const refusal = workerProtocolRefusal(request.headers[WORKER_PROTOCOL_HEADER]);
        if (refusal) throw refusal;
      },
    },
    async (request) => {
      const { report, ...claim } = request.body;
      const credential = request.credentialName ?? null;
      const claimAfter = { workerName: request.params.name, request: claim, credential };
      const applied = report ? await applyReportBeforeClaim(ctx, report, claimAfter) : {};
      const settings = ctx.farm().settings;
      // The worker asks; the farm's setting caps it (a proxy in between may cut idle requests).
      const waitSeconds = Math.min(request.body.waitSeconds ?? settings.claimWaitSeconds, settings.claimWaitSeconds);
      const waitMs = Math.round(waitSeconds * 1000);
      const abort = new AbortController();
      const stop = () => abort.abort();
      request.raw.socket.once('close', stop);
      ctx.shutdown.addEventListener('abort', stop);
      ctx.metrics.claimsWaiting.inc();
      try {
        const claimed = await ctx.broker.claim(
          request.params.name,
          claim,
          waitMs,
          abort.signal,
          credential,
          applied.checkedIn,
        );
        const assignment = claimed && ctx.credentials.issue(claimed);
        return applied.refused ? { assignment, reportRefused: applied.refused } : { assignment };
      } finally {
        ctx.metrics.claimsWaiting.dec();
        request.raw.socket.off('close', stop);
        ctx.shutdown.removeEventListener('abort', stop);
      }
    },
  );

  app.post(
    '/api/v1/attempts/:id/heartbeat',
    {
      config: { scope: 'worker', longLived: true },
      schema: {
        operationId: 'heartbeat',
        tags: ['worker protocol'],
        summary:
          'Renew the lease; held up to ?wait seconds and answered at once when the job is cancelled. 409 lease-lost: stop.',
        params: AttemptParams,
        querystring: Type.Object({ wait: Type.Optional(Type.Number({ minimum: 0, maximum: 60 })) }),
        response: { 200: HeartbeatResponse, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const attemptId = request.params.id;
      const leaseMs = ctx.farm().settings.leaseSeconds * 1000;
      const arrived = performance.now();
      const credential = request.credentialName ?? null;
      const renewed = await ctx.store.jobs.heartbeat(attemptId, leaseMs, credential);
      const waitMs = Math.min((request.query.wait ?? 0) * 1000, leaseMs / 2);
      if (renewed.cancel || waitMs <= 0) return renewed;
      const outcome = await waitForCancel(ctx, attemptId, waitMs, request.raw.socket);
      if (outcome === 'gone') return renewed;
      // Renew again as we answer, and say how long we held on: the worker counts its lease from
      // then, so holding heartbeats costs it no margin.
      const heldMs = Math.round(performance.now() - arrived);
      return { ...(await ctx.store.jobs.heartbeat(attemptId, leaseMs, credential)), heldMs };
    },
  );

  app.post(
    '/api/v1/attempts/:id/steps/:index/started',
    {
      config: { actsOn: 'attempt' },
      schema: {
        operationId: 'stepStarted',
        tags: ['worker protocol'],
        summary: 'Report that a step of the attempt started (step.started)',
        params: StepParams,
        body: StepStartedRequest,
        response: { 200: Ok, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await ctx.store.jobs.stepStarted(request.params.id, request.params.index, request.body);
      return { ok: true as const };
    },
  );

  app.post(
    '/api/v1/attempts/:id/log',
    {
      config: { actsOn: 'attempt' },
      schema: {
        operationId: 'appendLog',
        tags: ['worker protocol'],
        summary:
          'Append a batch of log frames (application/vnd.switchyard.log-frames) to a step; seq counts from 0 per step',
        params: AttemptParams,
        querystring: LogAppendQuery,
        response: { 200: LogAppendResponse, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const frames = request.body;
      if (!Buffer.isBuffer(frames)) {
        throw new ApiError('unsupported-media-type', `log batches are sent as ${LOG_CONTENT_TYPE}`);
      }
      const result = await ctx.logs.append(request.params.id, request.query.step, request.query.seq, frames);
      ctx.metrics.logRequests.inc();
      ctx.metrics.logBytes.inc(frames.length);
      return result;
    },
  );

  app.post(
    '/api/v1/attempts/:id/report',
    {
      config: { actsOn: 'attempt' },
      schema: {
        operationId: 'reportAttempt',
        tags: ['worker protocol'],
        summary:
          'Several reports of an attempt (steps started and finished, small log batches, its end) in their order, applied together in one transaction',
        params: AttemptParams,
        body: AttemptReportRequest,
        response: { 200: AttemptReportResponse, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const result = await ctx.logs.report(request.params.id, request.body.entries);
      countLogBatches(ctx, request.body.entries);
      return result;
    },
  );

  app.post(
    '/api/v1/attempts/:id/steps/:index/finished',
    {
      config: { actsOn: 'attempt' },
      schema: {
        operationId: 'stepFinished',
        tags: ['worker protocol'],
        summary: 'Report how a step of the attempt ended: its state, exit code, signal and duration (step.finished)',
        params: StepParams,
        body: StepFinishedRequest,
        response: { 200: Ok, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await ctx.store.jobs.stepFinished(request.params.id, request.params.index, request.body);
      return { ok: true as const };
    },
  );

  app.post(
    '/api/v1/attempts/:id/finished',
    {
      config: { actsOn: 'attempt' },
      schema: {
        operationId: 'attemptFinished',
        tags: ['worker protocol'],
        summary: 'Report how the attempt ended; the job becomes final, or pending again after a retryable exception',
        params: AttemptParams,
        body: AttemptFinishedRequest,
        response: { 200: Ok, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await ctx.store.jobs.attemptFinished(request.params.id, request.body);
      return { ok: true as const };
    },
  );
}

/**
 * Applies the reports a claim carries, with the claim's check-in when they end the attempt
 * (`checkedIn`: the claim need not check in again). A refusal (the attempt was given away
 * meanwhile, or a report no longer fits) does not stop the claim: the attempt is over for this
 * worker either way, so the refusal is said in the answer, for the worker to log, as the outbox
 * logs a report it drops. Failures of the coordinator itself fail the claim, which the worker
 * sends again.
 */
async function applyReportBeforeClaim(
  ctx: ApiContext,
  report: NonNullable<ClaimAfterReportRequest['report']>,
  claimAfter: ClaimAfterReport,
): Promise<{ refused?: { code: string; message: string }; checkedIn?: CheckedIn }> {
  try {
    checkAttemptCredential(ctx.credentials, 'attempt', String(report.attemptId), `Bearer ${report.attemptToken}`);
    const { checkedIn } = await ctx.logs.report(report.attemptId, report.entries, claimAfter);
    countLogBatches(ctx, report.entries);
    return { checkedIn };
  } catch (error) {
    const refusal = error instanceof StoreError ? apiErrorOf(error) : error;
    if (refusal instanceof ApiError && refusal.status < 500) {
      return { refused: { code: refusal.code, message: refusal.message } };
    }
    throw error;
  }
}

/** Log batches that came inside a report count as the ones sent alone do. */
function countLogBatches(ctx: ApiContext, entries: readonly ReportEntry[]): void {
  for (const entry of entries) {
    if (entry.kind !== 'log') continue;
    ctx.metrics.logRequests.inc();
    ctx.metrics.logBytes.inc(Buffer.byteLength(entry.frames, 'base64'));
  }
}

/** Holds a heartbeat until its attempt is cancelled (the change feed says so), `waitMs` passes, or the worker leaves. */
async function waitForCancel(
  ctx: ApiContext,
  attemptId: number,
  waitMs: number,
  socket: import('node:net').Socket,
): Promise<'cancelled' | 'waited' | 'gone'> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  socket.once('close', onClose);
  ctx.shutdown.addEventListener('abort', onClose);
  try {
    const cancelled = await ctx.activity.cancellation(attemptId, gone.signal, waitMs);
    return cancelled ? 'cancelled' : gone.signal.aborted ? 'gone' : 'waited';
  } finally {
    socket.off('close', onClose);
    ctx.shutdown.removeEventListener('abort', onClose);
  }
}
