/**
 * The state transitions every write shares: creating jobs, ending attempts, making jobs final
 * and settling what waited for them. Each runs inside the caller's transaction (`ctx`) and
 * appends the events it causes there; none commits on its own.
 */
import { type AttemptResult, isFinalJobState, type JobState } from '@switchyard/protocol';
import { type QueryCreator, type RawBuilder, sql } from 'kysely';
import { coalescedReason, jobAfterAttempt } from '../scheduler/job-outcome.ts';
import type { JobPlan } from '../scheduler/plan-push.ts';
import { type PushJob, settleDependents } from '../scheduler/settle-dependents.ts';
import {
  type AttemptEnd,
  type AttemptEndWrites,
  type FinalJobRow,
  finalJobUpdate,
  type JobChange,
  pushWithJobs,
  writeAttemptEnd,
} from './attempt-end.ts';
import { DATABASE_NOW_MS, settleNow } from './database-time.ts';
import { dialectOf } from './dialect.ts';
import { leaseExpired, notFound } from './errors.ts';
import {
  type AttemptRow,
  iso,
  type JobRow,
  type PushRow,
  toAttempt,
  toJob,
  toWorker,
  type WorkerRow,
} from './mappers.ts';
import type { CheckedIn, ClaimAfterReport } from './port.ts';
import type { Database } from './schema.ts';
import { checkInFoldsIntoEnd, workerValues } from './worker-check-in.ts';
import { recentSuccessDurations, type WorkerOutcome, workerOutcome } from './worker-record.ts';
import type { AttemptWorkerRow, WriteContext } from './write-context.ts';

/**
 * The stored spec of a job of push `pushId`: the builder as it was when the job was created, with
 * the push's id first. A claim hands it out as the assignment's job, as every coordinator since
 * 0.1.0 does: replicas of several versions share the rows during a rolling upgrade.
 */
export function storedSpec(pushId: number, plan: JobPlan): string {
  return JSON.stringify({ pushId, ...plan.spec });
}

/** A planned job's columns that depend neither on its push nor on the time (the spec without the push's id). */
export function plannedJobColumns(plan: JobPlan) {
  return {
    builder: plan.builder,
    pool: plan.pool,
    state: plan.state,
    reason: plan.reason,
    spec: JSON.stringify(plan.spec),
    required_tags: JSON.stringify(plan.requiredTags),
    priority: plan.priority,
    prefer: plan.prefer,
    coalesce_limit: plan.coalesceLimit,
    exact: plan.exact ? 1 : 0,
    max_attempts: plan.maxAttempts,
  };
}

/** Inserts a job as planned (scheduler/plan-push.ts), its dependencies resolved to job ids. */
export async function insertJob(
  ctx: WriteContext,
  push: { id: number; repo: string; branch: string; revision: string; author: string },
  plan: JobPlan,
  links: { dependsOn: number[]; retriggeredFrom: number | null },
): Promise<JobRow> {
  const final = isFinalJobState(plan.state);
  const row = await ctx.trx
    .insertInto('jobs')
    .values({
      ...plannedJobColumns(plan),
      spec: storedSpec(push.id, plan),
      push_id: push.id,
      repo: push.repo,
      branch: push.branch,
      revision: push.revision,
      author: push.author,
      depends_on: JSON.stringify(links.dependsOn),
      coalesced_into: null,
      claim_reason: null,
      queue_rank: ctx.now + plan.priority * ctx.priorityLevelMs,
      attempt_count: 0,
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
  details: { message?: string | null; finishedAt?: number; claimAfter?: ClaimAfterReport },
): Promise<CheckedIn | null> {
  const job = await jobRow(ctx, attempt.job_id);
  const next = jobAfterAttempt({
    result,
    reason,
    attemptNumber: attempt.number,
    attemptCount: job.attempt_count,
    maxAttempts: job.max_attempts,
  });
  const change: JobChange = next.kind === 'retry' ? next : { kind: 'final', state: next.state, reason: next.reason };
  return closeAttempt(
    ctx,
    attempt,
    job,
    {
      state: result,
      reason,
      message: details.message ?? null,
      finishedAt: details.finishedAt ?? ctx.now,
    },
    { change, claimAfter: details.claimAfter },
  );
}

/**
 * Records how an attempt ended: its unfinished steps end with it (as `cancelled`, or as
 * `exception` when the attempt did not end on purpose), its worker is free, and
 * `attempt.finished` announces it. With `then.change`, its job moves on as well (pending again,
 * or final with the jobs waiting for it settled); without, what becomes of the job is the
 * caller's business.
 *
 * Every write is decided first and sent together (attempt-end.ts). The worker's row is written
 * once: freed, with what the end teaches about the worker (worker-record.ts), and, with
 * `then.claimAfter` (the claim its worker sent with the end), checked in when that is the usual
 * check-in (worker-check-in.ts), which is then said in the answer.
 */
export async function closeAttempt(
  ctx: WriteContext,
  attempt: AttemptRow,
  job: JobRow,
  end: AttemptEnd,
  then: { change?: JobChange; claimAfter?: ClaimAfterReport } = {},
): Promise<CheckedIn | null> {
  const { change, claimAfter } = then;
  // As the update will return it; a report of the same transaction may have changed it (timings).
  const ended: AttemptRow = {
    ...(ctx.attempts.get(attempt.id) ?? attempt),
    state: end.state,
    reason: end.reason,
    message: end.message,
    finished_at: end.finishedAt,
    lease_expires_at: null,
  };
  const worker = await attemptWorker(ctx, attempt, job, end.state === 'success');
  let workerWrite: AttemptEndWrites['worker'] = null;
  let outcome: WorkerOutcome | null = null;
  let claim: ClaimAfterReport | null = null;
  if (worker) {
    const { recent_durations: recentDurations, ...before } = worker;
    outcome = await workerOutcome(ctx, ended, job, before, recentDurations);
    claim = claimAfter && checkInFoldsIntoEnd(claimAfter, before, attempt.id) ? claimAfter : null;
    workerWrite = {
      name: before.name,
      values: {
        // The row is locked, so what it holds is known: this attempt, unless the worker restarted
        // and was given other work meanwhile.
        current_attempt: before.current_attempt === attempt.id ? null : before.current_attempt,
        ...outcome.values,
        ...(claim && workerValues(claim.request, claim.credential, ctx.now)),
      },
    };
  }
  const withPush = change?.kind === 'final' && dialectOf(ctx.trx) === 'postgres' && !knownJobsOfPush(ctx, job.push_id);
  const rows = await writeAttemptEnd(ctx, {
    attemptId: attempt.id,
    end,
    worker: workerWrite,
    job: change ? { id: job.id, change, withPush } : null,
  });
  ctx.attempts.set(rows.attempt.id, rows.attempt);
  let checkedIn: CheckedIn | null = null;
  if (rows.worker) {
    if (outcome?.bench) {
      await ctx.emit('worker.benched', {
        worker: toWorker(rows.worker, null, ctx.now),
        until: iso(outcome.bench.until),
        streak: outcome.bench.streak,
        reason: outcome.bench.reason,
      });
    }
    if (claim) {
      const benched = rows.worker.benched_until !== null && rows.worker.benched_until > ctx.now;
      checkedIn = { benchedUntil: benched ? rows.worker.benched_until : null };
    }
  }
  const { steps: _steps, ...attemptView } = toAttempt(rows.attempt, []);
  await ctx.emit('attempt.finished', { job: toJob(job), attempt: attemptView }, jobDims(job));
  if (!rows.job) return checkedIn;
  if (change?.kind === 'final') {
    await announceFinal(ctx, rows.job as FinalJobRow);
    await settleDependentsOf(ctx, job);
  } else {
    ctx.jobs.set(rows.job.id, rows.job);
    await ctx.emit('job.pending', { job: toJob(rows.job) }, jobDims(rows.job));
  }
  return checkedIn;
}

/**
 * The row of the attempt's worker as it was before the attempt ended, locked to the commit on
 * PostgreSQL, with the builder's recent durations there when the attempt succeeded (what its
 * learned speed compares with): read with the attempt (requireAttempt) when the verb said it
 * would end it, else read now, with the attempt locked first, the order every end of an attempt
 * takes them. Undefined for a worker without a row.
 */
async function attemptWorker(
  ctx: WriteContext,
  attempt: AttemptRow,
  job: JobRow,
  succeeded: boolean,
): Promise<AttemptWorkerRow | undefined> {
  const known = ctx.attemptWorkers.get(attempt.id);
  ctx.attemptWorkers.delete(attempt.id);
  if (known) return known;
  if (dialectOf(ctx.trx) === 'sqlite') {
    return ctx.trx.selectFrom('workers').selectAll().where('name', '=', attempt.worker).executeTakeFirst();
  }
  return ctx.trx
    .selectFrom('attempts')
    .innerJoin('workers', 'workers.name', 'attempts.worker')
    .selectAll('workers')
    .$if(succeeded, (q) => q.select(recentSuccessDurations(ctx, job.builder).as('recent_durations')))
    .where('attempts.id', '=', attempt.id)
    .modifyEnd(sql`for update of attempts, workers`)
    .executeTakeFirst();
}

/** Makes a job final and settles the jobs waiting for it (scheduler/settle-dependents.ts). */
export async function finishJob(ctx: WriteContext, job: JobRow, state: JobState, reason: string | null): Promise<void> {
  await markFinal(ctx, job.id, state, reason, job.push_id);
  await settleDependentsOf(ctx, job);
}

/** Settles the jobs of `job`'s push that waited for it, now that it is final. */
async function settleDependentsOf(ctx: WriteContext, job: JobRow): Promise<void> {
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

/**
 * `pushId`: the job's push, whose jobs the caller reads next (settling dependents, completing the
 * push). On PostgreSQL, unless this transaction knows them already, they come back with the update,
 * one round trip instead of two.
 */
async function markFinal(
  ctx: WriteContext,
  jobId: number,
  state: JobState,
  reason: string | null,
  pushId?: number,
): Promise<void> {
  const withPush = pushId !== undefined && dialectOf(ctx.trx) === 'postgres' && !knownJobsOfPush(ctx, pushId);
  const finished = await finalJobUpdate(ctx, ctx.trx, jobId, state, reason, withPush).executeTakeFirstOrThrow();
  await announceFinal(ctx, finished);
}

/** Keeps a job just made final (finalJobUpdate) on the write context and announces it. */
async function announceFinal(ctx: WriteContext, row: FinalJobRow): Promise<void> {
  const { has_artifacts, push_with_jobs, ...finished } = row;
  ctx.jobs.set(finished.id, finished);
  if (push_with_jobs) {
    // The statement's subquery sees the jobs as they were before it: this one as it is now.
    const { push, jobs } = push_with_jobs;
    rememberJobsOfPush(
      ctx,
      push,
      jobs.map((job) => (job.id === finished.id ? finished : job)),
    );
  }
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
  const known = knownJobsOfPush(ctx, pushId);
  if (known) return known;
  if (dialectOf(ctx.trx) === 'postgres') {
    const found = await ctx.trx.selectNoFrom(pushWithJobs(pushId).as('found')).executeTakeFirstOrThrow();
    if (!found.found) return [];
    rememberJobsOfPush(ctx, found.found.push, found.found.jobs);
    return found.found.jobs;
  }
  const rows = await ctx.trx.selectFrom('jobs').selectAll().where('push_id', '=', pushId).orderBy('id').execute();
  for (const row of rows) ctx.jobs.set(row.id, row);
  ctx.pushJobs.set(
    pushId,
    rows.map((row) => row.id),
  );
  return rows;
}

function knownJobsOfPush(ctx: WriteContext, pushId: number): JobRow[] | undefined {
  const known = ctx.pushJobs.get(pushId)?.map((id) => ctx.jobs.get(id));
  return known?.every((row) => row !== undefined) ? (known as JobRow[]) : undefined;
}

/**
 * Keeps a push's row and all its jobs, as this transaction has them, on the write context: a job
 * made final reads its push's jobs (settleDependents), and announcing the push complete needs the
 * row. A push just inserted is kept so; on PostgreSQL so is one read along with its jobs.
 */
export function rememberJobsOfPush(ctx: WriteContext, push: PushRow, jobs: JobRow[]): void {
  ctx.pushes.set(push.id, push);
  for (const row of jobs) ctx.jobs.set(row.id, row);
  ctx.pushJobs.set(
    push.id,
    jobs.map((row) => row.id),
  );
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
 * (Store.write) reads the database's time here. Read once per transaction: later calls (each
 * report of a batch) get the row as this transaction left it (WriteContext.attempts).
 */
export async function requireAttempt(ctx: WriteContext, id: number, reads: AttemptReads = {}): Promise<AttemptRow> {
  const known = ctx.awaitingNow ? undefined : ctx.attempts.get(id);
  if (known) return known;
  const { row } = await lockAttempt(ctx, id, reads);
  ctx.attempts.set(id, row);
  return row;
}

/**
 * What else the caller will need, which PostgreSQL then reads in the attempt's statement: one
 * round trip, not several. Heartbeats and log batches, the frequent callers, need nothing more.
 */
export interface AttemptReads {
  /** The attempt's job (jobRow). */
  job?: boolean;
  /**
   * The verb may end the attempt: its job, its worker's row, locked with it (closeAttempt writes
   * it once, from what it was), and for a success the builder's recent durations.
   */
  ending?: 'success' | 'other';
}

/**
 * On PostgreSQL, a write sent in the statement that reads and locks an attempt, from the locked row
 * (the table `locked_attempt`): one round trip fewer. It is made whatever the attempt turns out
 * to be; a caller that then refuses the attempt throws, which undoes it with the transaction.
 */
export interface AttemptRider<Row> {
  /** Adds the rider's WITHs to the statement. */
  with: (query: QueryCreator<Database>) => QueryCreator<Database>;
  /** What the statement selects of them: the rider's rows as one JSON value. */
  result: RawBuilder<Row | null>;
}

/**
 * requireAttempt for an attempt this transaction has not read yet, with `rider` sent in the same
 * statement; its rows are the answer's `ridden`.
 */
export async function requireAttemptWith<Row>(
  ctx: WriteContext,
  id: number,
  reads: AttemptReads,
  rider: AttemptRider<Row>,
): Promise<{ attempt: AttemptRow; ridden: Row | null }> {
  const locked = await lockAttempt(ctx, id, reads, rider);
  ctx.attempts.set(id, locked.row);
  return { attempt: locked.row, ridden: locked.ridden };
}

async function lockAttempt<Row = never>(
  ctx: WriteContext,
  id: number,
  reads: AttemptReads,
  rider?: AttemptRider<Row>,
): Promise<{ row: AttemptRow; ridden: Row | null }> {
  if (dialectOf(ctx.trx) === 'sqlite') {
    const row = await attemptRow(ctx, id);
    if (!row) throw notFound(`attempt ${id} does not exist`);
    return { row, ridden: null };
  }
  const withJob = reads.job === true || reads.ending !== undefined;
  const ownBuilder = sql<string>`(select own.builder from jobs as own where own.id = attempts.job_id)`;
  // FOR UPDATE locks the attempt, and with `ending` its worker (in that order, as every end
  // of an attempt takes them); a subquery's rows are not locked. Every attempt's worker has a row
  // (it is written before an attempt starts on it, and never deleted).
  const locking = ctx.trx
    .selectFrom('attempts')
    .selectAll('attempts')
    .select(DATABASE_NOW_MS.as('database_now'))
    .$if(withJob, (q) =>
      q.select(sql<JobRow>`(select to_jsonb(jobs) from jobs where jobs.id = attempts.job_id)`.as('job')),
    )
    .$if(reads.ending !== undefined, (q) =>
      q
        .innerJoin('workers', 'workers.name', 'attempts.worker')
        .select(sql<WorkerRow>`to_jsonb(workers)`.as('worker_row'))
        .$if(reads.ending === 'success', (q) =>
          q.select(recentSuccessDurations(ctx, ownBuilder).as('recent_durations')),
        ),
    )
    .where('attempts.id', '=', id)
    .$if(reads.ending === undefined, (q) => q.forUpdate())
    .$if(reads.ending !== undefined, (q) => q.modifyEnd(sql`for update of attempts, workers`));
  const found = rider
    ? await rider
        .with(ctx.trx.with('locked_attempt', () => locking) as unknown as QueryCreator<Database>)
        .selectFrom(sql<Record<string, unknown>>`locked_attempt`.as('locked'))
        .selectAll()
        .select(rider.result.as('ridden'))
        .executeTakeFirst()
    : await locking.executeTakeFirst();
  await settleNow(ctx, found?.database_now as number | undefined);
  if (!found) throw notFound(`attempt ${id} does not exist`);
  const {
    database_now: _,
    job,
    worker_row: worker,
    recent_durations: recentDurations,
    ridden,
    ...row
  } = found as unknown as AttemptRow & {
    database_now: number;
    job?: JobRow;
    worker_row?: WorkerRow;
    recent_durations?: number[];
    ridden?: Row | null;
  };
  if (job && !ctx.jobs.has(row.job_id)) ctx.jobs.set(row.job_id, job);
  if (worker) ctx.attemptWorkers.set(row.id, { ...worker, recent_durations: recentDurations });
  return { row, ridden: ridden ?? null };
}

/**
 * The states in which an attempt takes its worker's reports: running (under a live lease), or
 * cancelled (the worker says how its steps ended).
 */
export const STATES_TAKING_REPORTS = ['running', 'cancelled'] as const;

export function takesReports(attempt: { state: string }): boolean {
  return (STATES_TAKING_REPORTS as readonly string[]).includes(attempt.state);
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
