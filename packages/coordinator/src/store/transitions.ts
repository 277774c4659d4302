/**
 * The state transitions every write shares: creating jobs, ending attempts, making jobs final
 * and settling what waited for them. Each runs inside the caller's transaction (`ctx`) and
 * appends the events it causes there; none commits on its own.
 */
import {
  ApiError,
  type AttemptResult,
  type AttemptState,
  isFinalJobState,
  type JobSpec,
  type JobState,
} from '@switchyard/protocol';
import { sql } from 'kysely';
import { artifactSpecs, fetchSpecs } from '../artifacts/frozen-spec.ts';
import type { Builder, Farm } from '../config/farm-config.ts';
import { dependencyVerdict } from '../scheduler/dependencies.ts';
import { type AttemptRow, type JobRow, toAttempt, toJob } from './mappers.ts';
import { recordWorkerOutcome } from './worker-record.ts';
import type { WriteContext } from './write-context.ts';

/** Attempt endings that say nothing about the job itself, so another attempt may succeed. */
const RETRYABLE_REASONS = new Set([
  'worker-lost',
  'worker-restarted',
  'worker-stopped',
  'lost-contact',
  'checkout-failed',
  'tools-failed',
  'worker-error',
]);

export async function insertJob(
  ctx: WriteContext,
  farm: Farm,
  builder: Builder,
  push: { id: number; repo: string; repo_url: string; branch: string; revision: string; author: string },
  init: {
    state: JobState;
    reason: string | null;
    dependsOn: number[];
    retriggeredFrom: number | null;
    /** Someone asked for this exact revision: never coalesce it. */
    exact: boolean;
  },
): Promise<JobRow> {
  const spec: Omit<JobSpec, 'id'> = {
    pushId: push.id,
    repo: { name: push.repo, url: push.repo_url, vcs: builder.repo.vcs ?? 'git' },
    branch: push.branch,
    revision: push.revision,
    builder: builder.name,
    checkout: builder.checkout,
    ...(builder.config.sparse && { sparse: builder.config.sparse }),
    ...(builder.config.depth !== undefined && { depth: builder.config.depth }),
    ...(builder.config.tools !== undefined && { tools: builder.config.tools }),
    env: stringifyEnv(builder.config.env),
    steps: builder.config.steps.map((step) => ({
      name: step.name,
      run: step.run,
      env: stringifyEnv(step.env),
      timeoutSeconds: step.timeout ?? farm.settings.stepTimeoutSeconds,
    })),
    artifacts: artifactSpecs(builder.config),
    fetch: fetchSpecs(builder.config),
  };
  const final = isFinalJobState(init.state);
  const priority = farm.branchPriority(push.branch) + builder.priorityOffset;
  const coalescible = !init.exact && init.retriggeredFrom === null;
  return ctx.trx
    .insertInto('jobs')
    .values({
      push_id: push.id,
      builder: builder.name,
      repo: push.repo,
      branch: push.branch,
      revision: push.revision,
      author: push.author,
      pool: builder.pool,
      state: init.state,
      reason: init.reason,
      spec: JSON.stringify(spec),
      required_tags: JSON.stringify(builder.config.tags ?? {}),
      depends_on: JSON.stringify(init.dependsOn),
      priority,
      prefer: builder.prefer,
      coalesce_limit: coalescible ? builder.coalesceLimit : null,
      coalesced_into: null,
      exact: init.exact ? 1 : 0,
      claim_reason: null,
      queue_rank: ctx.now + priority * ctx.priorityLevelMs,
      attempt_count: 0,
      max_attempts: builder.maxAttempts,
      retriggered_from: init.retriggeredFrom,
      worker: null,
      created_at: ctx.now,
      pending_at: init.state === 'pending' ? ctx.now : null,
      started_at: null,
      finished_at: final ? ctx.now : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The event for a job's first state. */
export async function announceJob(ctx: WriteContext, row: JobRow): Promise<void> {
  const job = toJob(row);
  const dims = jobDims(row);
  if (row.state === 'pending') {
    ctx.poolsWithNewWork.add(row.pool);
    await ctx.emit('job.pending', { job }, dims);
  } else if (row.state === 'waiting') {
    await ctx.emit('job.waiting', { job }, dims);
  } else {
    await ctx.emit('job.finished', { job }, dims);
  }
}

/**
 * An assignment that never reached its worker: the attempt is undone and the job queued
 * again, without using up one of its attempts.
 */
export async function requeueUndelivered(ctx: WriteContext, attempt: AttemptRow): Promise<void> {
  await ctx.trx
    .updateTable('workers')
    .set({ current_attempt: null })
    .where('current_attempt', '=', attempt.id)
    .execute();
  await ctx.trx.deleteFrom('attempts').where('id', '=', attempt.id).execute();
  const job = await ctx.trx
    .updateTable('jobs')
    .set((eb) => ({
      state: 'pending',
      reason: 'its assignment never reached the worker',
      attempt_count: eb('attempt_count', '-', 1),
      worker: null,
      // It keeps its pending time and its place in the queue: nothing ran.
      claim_reason: null,
    }))
    .where('id', '=', attempt.job_id)
    .returningAll()
    .executeTakeFirstOrThrow();
  ctx.poolsWithNewWork.add(job.pool);
  await ctx.emit('job.pending', { job: toJob(job) }, jobDims(job));
}

/** Ends an attempt and moves its job on: final, or pending again for a retry. */
export async function endAttempt(
  ctx: WriteContext,
  attempt: AttemptRow,
  result: AttemptResult,
  reason: string | null,
  details: { message?: string | null; finishedAt?: number },
): Promise<void> {
  const job = await jobRow(ctx, attempt.job_id);
  await closeAttempt(ctx, attempt, job, {
    state: result,
    reason,
    message: details.message ?? null,
    finishedAt: details.finishedAt ?? ctx.now,
  });
  if (
    result === 'exception' &&
    reason !== null &&
    RETRYABLE_REASONS.has(reason) &&
    job.attempt_count < job.max_attempts
  ) {
    const requeued = await ctx.trx
      .updateTable('jobs')
      .set({
        state: 'pending',
        reason: `retrying after ${reason}`,
        pending_at: ctx.now,
        // Its place in the queue stays: a lost machine should not send the job to the back.
        worker: null,
        claim_reason: null,
      })
      .where('id', '=', job.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    ctx.poolsWithNewWork.add(requeued.pool);
    await ctx.emit('job.pending', { job: toJob(requeued) }, jobDims(requeued));
    return;
  }
  const jobReason =
    result === 'exception' && reason !== null && RETRYABLE_REASONS.has(reason)
      ? `${reason} (attempt ${attempt.number} of ${job.max_attempts})`
      : reason;
  await finishJob(ctx, job, result, jobReason);
}

/**
 * Records how an attempt ended: its unfinished steps end with it (as `cancelled`, or as
 * `exception` when the attempt did not end on purpose), its worker is free, and
 * `attempt.finished` announces it. What becomes of the job is the caller's business.
 */
export async function closeAttempt(
  ctx: WriteContext,
  attempt: AttemptRow,
  job: JobRow,
  end: { state: AttemptState; reason: string | null; message: string | null; finishedAt: number },
): Promise<void> {
  const ended = await ctx.trx
    .updateTable('attempts')
    .set({
      state: end.state,
      reason: end.reason,
      message: end.message,
      finished_at: end.finishedAt,
      lease_expires_at: null,
    })
    .where('id', '=', attempt.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.trx
    .updateTable('steps')
    .set({ state: end.state === 'cancelled' ? 'cancelled' : 'exception', finished_at: end.finishedAt })
    .where('attempt_id', '=', attempt.id)
    .where('finished_at', 'is', null)
    .execute();
  await ctx.trx
    .updateTable('workers')
    .set({ current_attempt: null })
    .where('current_attempt', '=', attempt.id)
    .execute();
  await recordWorkerOutcome(ctx, ended, job);
  const { steps: _steps, ...attemptView } = toAttempt(ended, []);
  await ctx.emit('attempt.finished', { job: toJob(job), attempt: attemptView }, jobDims(job));
}

/** Makes a job final and settles the jobs waiting for it. */
export async function finishJob(ctx: WriteContext, job: JobRow, state: JobState, reason: string | null): Promise<void> {
  const finished = await ctx.trx
    .updateTable('jobs')
    .set({ state, reason, finished_at: ctx.now })
    .where('id', '=', job.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.emit('job.finished', { job: toJob(finished) }, jobDims(finished));
  const waiting = await ctx.trx
    .selectFrom('jobs')
    .selectAll()
    .where('push_id', '=', job.push_id)
    .where('state', '=', 'waiting')
    .execute();
  for (const dependent of waiting) {
    const dependsOn = JSON.parse(dependent.depends_on) as number[];
    if (!dependsOn.includes(job.id)) continue;
    const deps = await ctx.trx
      .selectFrom('jobs')
      .select(['id', 'state', 'builder'])
      .where('id', 'in', dependsOn)
      .execute();
    const ordered = dependsOn.map((id) => deps.find((d) => d.id === id) as { state: string; builder: string });
    const verdict = dependencyVerdict(ordered.map((d) => d.state as JobState));
    if (verdict.state === 'pending') {
      const ready = await ctx.trx
        .updateTable('jobs')
        .set({ state: 'pending', pending_at: ctx.now, queue_rank: pendingRank(ctx) })
        .where('id', '=', dependent.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      ctx.poolsWithNewWork.add(ready.pool);
      await ctx.emit('job.pending', { job: toJob(ready) }, jobDims(ready));
    } else if (verdict.state === 'skipped') {
      const blocker = ordered[verdict.blockingIndex] as { builder: string };
      await finishJob(ctx, dependent, 'skipped', `dependency ${blocker.builder} ended in ${verdict.blockingState}`);
    }
  }
}

/** `queue_rank` for a job that becomes pending now: see scheduler/queue-order.ts. */
function pendingRank(ctx: WriteContext) {
  return sql<number>`priority * ${ctx.priorityLevelMs} + ${ctx.now}`;
}

/** A pending job another run stands for: final, pointing at the job that ran in its place. */
export async function coalesceJob(ctx: WriteContext, jobId: number, into: JobRow): Promise<void> {
  const job = await ctx.trx
    .updateTable('jobs')
    .set({ coalesced_into: into.id })
    .where('id', '=', jobId)
    .where('state', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
  if (!job) return;
  await finishJob(
    ctx,
    job,
    'coalesced',
    `coalesced into job ${into.id}, which builds the newer revision ${into.revision.slice(0, 12)} of ${into.branch}`,
  );
}

export async function attemptRow(ctx: WriteContext, id: number): Promise<AttemptRow | undefined> {
  return ctx.trx.selectFrom('attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function requireAttempt(ctx: WriteContext, id: number): Promise<AttemptRow> {
  const row = await attemptRow(ctx, id);
  if (!row) throw new ApiError('not-found', `attempt ${id} does not exist`);
  return row;
}

export async function jobRow(ctx: WriteContext, id: number): Promise<JobRow> {
  return ctx.trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function requireJob(ctx: WriteContext, id: number): Promise<JobRow> {
  const row = await ctx.trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError('not-found', `job ${id} does not exist`);
  return row;
}

export function jobDims(row: JobRow) {
  return { repo: row.repo, branch: row.branch, builder: row.builder, jobId: row.id, pushId: row.push_id };
}

export function leaseLost(attempt: AttemptRow): ApiError {
  return new ApiError(
    'lease-lost',
    `attempt ${attempt.id} has ended (${attempt.state}${attempt.reason ? `: ${attempt.reason}` : ''}); stop working on it`,
    { state: attempt.state, reason: attempt.reason },
  );
}

function stringifyEnv(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([key, value]) => [key, String(value)]));
}
