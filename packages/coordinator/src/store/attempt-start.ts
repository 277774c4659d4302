import { sql } from 'kysely';
import { dialectOf } from './dialect.ts';
import type { AttemptRow, JobRow } from './mappers.ts';
import type { WriteContext } from './write-context.ts';

/** Which pending job starts, on which worker, why the scheduler chose it, and its lease. */
export interface AttemptStart {
  jobId: number;
  workerName: string;
  why: string;
  leaseMs: number;
}

export interface StartedAttempt {
  jobRow: JobRow;
  attempt: AttemptRow;
}

/**
 * A pending job starts on a worker: the job runs, its attempt begins with a lease of `leaseMs`,
 * and the worker holds the attempt. Throws when the job is no longer pending (the caller read
 * it pending in the same transaction, locked on PostgreSQL, so that is a bug). On PostgreSQL the
 * three writes are one statement (data-modifying WITHs): this is every claim's path, and every
 * statement a round trip. SQLite has no such WITH, and its statements cost no round trip.
 */
export async function beginAttempt(ctx: WriteContext, start: AttemptStart): Promise<StartedAttempt> {
  if (dialectOf(ctx.trx) === 'postgres') return beginAttemptInOneStatement(ctx, start);
  const { jobId, workerName, why, leaseMs } = start;
  const jobRow = await ctx.trx
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      reason: null,
      attempt_count: eb('attempt_count', '+', 1),
      worker: workerName,
      started_at: ctx.now,
      claim_reason: why,
    }))
    .where('id', '=', jobId)
    .where('state', '=', 'pending')
    .returningAll()
    .executeTakeFirstOrThrow();
  const attempt = await ctx.trx
    .insertInto('attempts')
    .values({
      job_id: jobRow.id,
      number: jobRow.attempt_count,
      worker: workerName,
      state: 'running',
      reason: null,
      message: null,
      started_at: ctx.now,
      finished_at: null,
      lease_expires_at: ctx.now + leaseMs,
      timings: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.trx.updateTable('workers').set({ current_attempt: attempt.id }).where('name', '=', workerName).execute();
  return { jobRow, attempt };
}

async function beginAttemptInOneStatement(ctx: WriteContext, start: AttemptStart): Promise<StartedAttempt> {
  const { jobId, workerName, why, leaseMs } = start;
  // Each WITH sees the rows the one before it returned; the worker is updated only if an attempt began.
  const { rows } = await sql<{ job: JobRow; attempt: AttemptRow }>`
    with started as (
      update jobs set state = 'running', reason = null, attempt_count = attempt_count + 1,
        worker = ${workerName}::text, started_at = ${ctx.now}::bigint, claim_reason = ${why}::text
      where id = ${jobId}::bigint and state = 'pending'
      returning *
    ), attempt as (
      insert into attempts (job_id, number, worker, state, reason, message, started_at, finished_at, lease_expires_at, timings)
      select id, attempt_count, ${workerName}::text, 'running', null, null, ${ctx.now}::bigint, null,
        ${ctx.now + leaseMs}::bigint, null
      from started
      returning *
    ), held as (
      update workers set current_attempt = attempt.id from attempt where workers.name = ${workerName}::text
    )
    select to_jsonb(started) as job, to_jsonb(attempt) as attempt from started cross join attempt`.execute(ctx.trx);
  const row = rows[0];
  if (!row) throw new Error(`job ${jobId} is no longer pending`);
  return { jobRow: row.job, attempt: row.attempt };
}
