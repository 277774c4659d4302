/**
 * The state transitions every write shares: creating jobs, ending attempts, making jobs final
 * and settling what waited for them. Each runs inside the caller's transaction (`ctx`) and
 * appends the events it causes there; none commits on its own.
 */
import {
  type AttemptResult,
  type AttemptState,
  isFinalJobState,
  type JobSpec,
  type JobState,
} from '@switchyard/protocol';
import { type QueryCreator, sql } from 'kysely';
import { coalescedReason, jobAfterAttempt } from '../scheduler/job-outcome.ts';
import type { JobPlan } from '../scheduler/plan-push.ts';
import { type PushJob, settleDependents } from '../scheduler/settle-dependents.ts';
import { DATABASE_NOW_MS, settleNow } from './database-time.ts';
import { dialectOf } from './dialect.ts';
import { leaseExpired, notFound } from './errors.ts';
import { type AttemptRow, type JobRow, type PushRow, toAttempt, toJob } from './mappers.ts';
import type { Database } from './schema.ts';
import { recentSuccessDurations, recordWorkerOutcome } from './worker-record.ts';
import type { WriteContext } from './write-context.ts';

/** Inserts a job as planned (scheduler/plan-push.ts), its dependencies resolved to job ids. */
export async function insertJob(
  ctx: WriteContext,
  push: { id: number; repo: string; branch: string; revision: string; author: string },
  plan: JobPlan,
  links: { dependsOn: number[]; retriggeredFrom: number | null },
): Promise<JobRow> {
  const spec: Omit<JobSpec, 'id'> = { pushId: push.id, ...plan.spec };
  const final = isFinalJobState(plan.state);
  const row = await ctx.trx
    .insertInto('jobs')
    .values({
      push_id: push.id,
      builder: plan.builder,
      repo: push.repo,
      branch: push.branch,
      revision: push.revision,
      author: push.author,
      pool: plan.pool,
      state: plan.state,
      reason: plan.reason,
      spec: JSON.stringify(spec),
      required_tags: JSON.stringify(plan.requiredTags),
      depends_on: JSON.stringify(links.dependsOn),
      priority: plan.priority,
      prefer: plan.prefer,
      coalesce_limit: plan.coalesceLimit,
      coalesced_into: null,
      exact: plan.exact ? 1 : 0,
      claim_reason: null,
      queue_rank: ctx.now + plan.priority * ctx.priorityLevelMs,
      attempt_count: 0,
      max_attempts: plan.maxAttempts,
      retriggered_from: links.retriggeredFrom,
      worker: null,
      created_at: ctx.now,
      pending_at: plan.state === 'pending' ? ctx.now : null,
      started_at: null,
      finished_at: final ? ctx.now : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  ctx.jobs.set(row.id, row);
  ctx.pushJobs.get(push.id)?.push(row.id);
  return row;
}

/** The event for a job's first state. */
export async function announceJob(ctx: WriteContext, row: JobRow): Promise<void> {
  const job = toJob(row);
  const dims = jobDims(row);
  if (row.state === 'pending') {
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
  ctx.attempts.delete(attempt.id);
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
  ctx.jobs.set(job.id, job);
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
  const next = jobAfterAttempt({
    result,
    reason,
    attemptNumber: attempt.number,
    attemptCount: job.attempt_count,
    maxAttempts: job.max_attempts,
  });
  if (next.kind === 'retry') {
    const requeued = await ctx.trx
      .updateTable('jobs')
      .set({
        state: 'pending',
        reason: next.reason,
        pending_at: ctx.now,
        // Its place in the queue stays: a lost machine should not send the job to the back.
        worker: null,
        claim_reason: null,
      })
      .where('id', '=', job.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    ctx.jobs.set(requeued.id, requeued);
    await ctx.emit('job.pending', { job: toJob(requeued) }, jobDims(requeued));
    return;
  }
  await finishJob(ctx, job, next.state, next.reason);
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
  const closeSteps = (db: QueryCreator<Database>) =>
    db
      .updateTable('steps')
      .set({ state: end.state === 'cancelled' ? 'cancelled' : 'exception', finished_at: end.finishedAt })
      .where('attempt_id', '=', attempt.id)
      .where('finished_at', 'is', null);
  const endRow = (db: QueryCreator<Database>) =>
    db
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
  // On PostgreSQL the steps close in the attempt's statement (a data-modifying WITH): one round
  // trip. SQLite has no such WITH, and a statement there costs no round trip.
  let ended: AttemptRow;
  if (dialectOf(ctx.trx) === 'postgres') {
    // The WITH adds a table the update never names, which Kysely's types cannot widen to.
    ended = await endRow(ctx.trx.with('closed_steps', (db) => closeSteps(db)) as unknown as QueryCreator<Database>);
  } else {
    await closeSteps(ctx.trx).execute();
    ended = await endRow(ctx.trx);
  }
  ctx.attempts.set(ended.id, ended);
  // Only the attempt's worker ever holds it; its row, read by the same statement, is what the
  // outcome's lesson starts from. On PostgreSQL a success brings the builder's recent durations
  // along, which the worker's learned speed compares it with: no statement of their own.
  const withDurations = dialectOf(ctx.trx) === 'postgres' && end.state === 'success';
  const freed = await ctx.trx
    .updateTable('workers')
    .set({
      current_attempt: sql<number | null>`case when current_attempt = ${attempt.id} then null else current_attempt end`,
    })
    .where('name', '=', attempt.worker)
    .returningAll()
    .$if(withDurations, (q) => q.returning(recentSuccessDurations(ctx, job.builder).as('recent_durations')))
    .executeTakeFirst();
  if (freed) {
    const { recent_durations: recentDurations, ...worker } = freed as typeof freed & { recent_durations?: number[] };
    await recordWorkerOutcome(ctx, ended, job, worker, recentDurations);
  }
  const { steps: _steps, ...attemptView } = toAttempt(ended, []);
  await ctx.emit('attempt.finished', { job: toJob(job), attempt: attemptView }, jobDims(job));
}

/** Makes a job final and settles the jobs waiting for it (scheduler/settle-dependents.ts). */
export async function finishJob(ctx: WriteContext, job: JobRow, state: JobState, reason: string | null): Promise<void> {
  await markFinal(ctx, job.id, state, reason);
  const pushJobs = (await jobsOfPush(ctx, job.push_id)).map(toPushJob);
  for (const settlement of settleDependents(job.id, pushJobs)) {
    if (settlement.state === 'skipped') {
      await markFinal(ctx, settlement.jobId, 'skipped', settlement.reason);
      continue;
    }
    const ready = await ctx.trx
      .updateTable('jobs')
      .set({ state: 'pending', pending_at: ctx.now, queue_rank: pendingRank(ctx) })
      .where('id', '=', settlement.jobId)
      .returningAll()
      .executeTakeFirstOrThrow();
    ctx.jobs.set(ready.id, ready);
    await ctx.emit('job.pending', { job: toJob(ready) }, jobDims(ready));
  }
}

async function markFinal(ctx: WriteContext, jobId: number, state: JobState, reason: string | null): Promise<void> {
  // The same statement says whether the job has artifacts, which job.finished lists.
  const { has_artifacts, ...finished } = await ctx.trx
    .updateTable('jobs')
    .set({ state, reason, finished_at: ctx.now })
    .where('id', '=', jobId)
    .returningAll()
    .returning((eb) =>
      eb
        .exists(eb.selectFrom('artifacts').select('artifacts.id').whereRef('artifacts.job_id', '=', 'jobs.id'))
        .as('has_artifacts'),
    )
    .executeTakeFirstOrThrow();
  ctx.jobs.set(finished.id, finished);
  if (!Number(has_artifacts)) ctx.withoutArtifacts.add(finished.id);
  await ctx.emit('job.finished', { job: toJob(finished) }, jobDims(finished));
}

/**
 * Every job of a push, in id order, as this transaction has them: what settling a finished job
 * needs (a job only waits for jobs of its own push) and what says whether the push is complete
 * (push-completion.ts). Read once per transaction; later calls take the rows it keeps current
 * (WriteContext.jobs), or read again if any of them is missing.
 */
export async function jobsOfPush(ctx: WriteContext, pushId: number): Promise<JobRow[]> {
  const known = ctx.pushJobs.get(pushId)?.map((id) => ctx.jobs.get(id));
  if (known?.every((row) => row !== undefined)) return known as JobRow[];
  const rows =
    dialectOf(ctx.trx) === 'postgres'
      ? await jobsWithPushOnPostgres(ctx, pushId)
      : await ctx.trx.selectFrom('jobs').selectAll().where('push_id', '=', pushId).orderBy('id').execute();
  for (const row of rows) ctx.jobs.set(row.id, row);
  ctx.pushJobs.set(
    pushId,
    rows.map((row) => row.id),
  );
  return rows;
}

/**
 * On PostgreSQL the push's row comes along in the same round trip, kept in `ctx.pushes`: a job
 * made final reads its push's jobs (settleDependents), and announcing the push complete then
 * needs the row.
 */
async function jobsWithPushOnPostgres(ctx: WriteContext, pushId: number): Promise<JobRow[]> {
  const jobs = sql<JobRow[]>`(select coalesce(json_agg(jobs order by jobs.id), '[]'::json)
    from jobs where jobs.push_id = pushes.id)`;
  const found = await ctx.trx
    .selectFrom('pushes')
    .select([sql<PushRow>`to_jsonb(pushes)`.as('push'), jobs.as('jobs')])
    .where('id', '=', pushId)
    .executeTakeFirst();
  if (!found) return [];
  ctx.pushes.set(pushId, found.push);
  return found.jobs;
}

function toPushJob(row: { id: number; builder: string; state: string; depends_on: string }): PushJob {
  return { id: row.id, builder: row.builder, state: row.state as JobState, dependsOn: JSON.parse(row.depends_on) };
}

/** `queue_rank` for a job that becomes pending now: see scheduler/queue-order.ts. */
function pendingRank(ctx: WriteContext) {
  return sql<number>`priority * ${ctx.priorityLevelMs} + ${ctx.now}`;
}

/**
 * A pending job another run stands for: final, pointing at the job that ran in its place. Nothing
 * when it is no longer pending; on PostgreSQL also when another transaction holds it, which this
 * one passes over rather than waits for (as a matching round's start does, attempt-start.ts).
 */
export async function coalesceJob(ctx: WriteContext, jobId: number, into: JobRow): Promise<void> {
  const job = await ctx.trx
    .updateTable('jobs')
    .set({ coalesced_into: into.id })
    .$if(dialectOf(ctx.trx) === 'sqlite', (q) => q.where('id', '=', jobId).where('state', '=', 'pending'))
    .$if(dialectOf(ctx.trx) === 'postgres', (q) =>
      q.where('id', '=', (eb) =>
        eb
          .selectFrom('jobs as held')
          .select('held.id')
          .where('held.id', '=', jobId)
          .where('held.state', '=', 'pending')
          .forUpdate()
          .skipLocked(),
      ),
    )
    .returningAll()
    .executeTakeFirst();
  if (!job) return;
  ctx.jobs.set(job.id, job);
  await finishJob(ctx, job, 'coalesced', coalescedReason(into));
}

export async function attemptRow(ctx: WriteContext, id: number): Promise<AttemptRow | undefined> {
  return ctx.trx.selectFrom('attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The attempt a worker's heartbeat or report acts on. On PostgreSQL its row is locked to the
 * commit, so that a renewal and the lease reaper (or two reports) take turns rather than both
 * acting on what each read; and a transaction whose time comes from its first statement
 * (Store.write) reads the database's clock here. Read once per transaction: later calls (each
 * report of a batch) get the row as this transaction left it (WriteContext.attempts).
 */
export async function requireAttempt(ctx: WriteContext, id: number, withJob = false): Promise<AttemptRow> {
  const known = ctx.awaitingNow ? undefined : ctx.attempts.get(id);
  if (known) return known;
  const row = await lockAttempt(ctx, id, withJob);
  ctx.attempts.set(id, row);
  return row;
}

/** `withJob`: the caller will need the attempt's job (jobRow), which PostgreSQL then reads along. */
async function lockAttempt(ctx: WriteContext, id: number, withJob: boolean): Promise<AttemptRow> {
  if (dialectOf(ctx.trx) === 'sqlite') {
    const row = await attemptRow(ctx, id);
    if (!row) throw notFound(`attempt ${id} does not exist`);
    return row;
  }
  // The job in the same statement: one round trip, not two. Heartbeats and log batches, the
  // frequent callers, need no job and read none. FOR UPDATE locks the attempt only; a subquery's
  // rows are not locked.
  const found = await ctx.trx
    .selectFrom('attempts')
    .selectAll()
    .select(DATABASE_NOW_MS.as('database_now'))
    .$if(withJob, (q) =>
      q.select(sql<JobRow>`(select to_jsonb(jobs) from jobs where jobs.id = attempts.job_id)`.as('job')),
    )
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  await settleNow(ctx, found?.database_now);
  if (!found) throw notFound(`attempt ${id} does not exist`);
  const { database_now: _, job, ...row } = found as typeof found & { job?: JobRow };
  if (job && !ctx.jobs.has(row.job_id)) ctx.jobs.set(row.job_id, job);
  return row;
}

/**
 * Fencing: a running attempt whose lease ran out is lost to its worker even before the reaper
 * ended it, so neither a renewal nor a report may act on it (pg-boss and graphile-worker shipped
 * renewals that revived expired leases; the distributed reference, section 1).
 */
export function requireLiveLease(ctx: WriteContext, attempt: AttemptRow): void {
  if (attempt.state === 'running' && (attempt.lease_expires_at ?? 0) < ctx.now) {
    throw leaseExpired(attempt as AttemptRow & { lease_expires_at: number }, ctx.now);
  }
}

/** A job's row, read once per transaction (WriteContext.jobs). */
export async function jobRow(ctx: WriteContext, id: number): Promise<JobRow> {
  const known = ctx.jobs.get(id);
  if (known) return known;
  const row = await ctx.trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  ctx.jobs.set(id, row);
  return row;
}

export async function requireJob(ctx: WriteContext, id: number): Promise<JobRow> {
  const row = await ctx.trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`job ${id} does not exist`);
  return row;
}

export function jobDims(row: JobRow) {
  return { repo: row.repo, branch: row.branch, builder: row.builder, jobId: row.id, pushId: row.push_id };
}
