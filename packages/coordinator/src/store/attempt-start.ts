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
 * and the worker holds the attempt. Null when the job is no longer pending: the matching round
 * read its page without locks (store.ts, pendingPage), and another coordinator sharing the
 * PostgreSQL database may have started the job since, or be starting it now; then nothing is
 * written, and nothing waits for the other coordinator's transaction. On PostgreSQL the three
 * writes are one statement (data-modifying WITHs): this is every claim's path, and every
 * statement a round trip. SQLite has no such WITH, and its statements cost no round trip.
 */
export async function beginAttempt(ctx: WriteContext, start: AttemptStart): Promise<StartedAttempt | null> {
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
    .executeTakeFirst();
  if (!jobRow) return null;
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

async function beginAttemptInOneStatement(ctx: WriteContext, start: AttemptStart): Promise<StartedAttempt | null> {
  const { jobId, workerName, why, leaseMs } = start;
  // Each WITH sees the rows the one before it returned; the worker is updated only if an attempt
  // began. The job's row is locked SKIP LOCKED, and its state read again once locked (a read
  // committed lock sees the row's latest version), so a job another transaction holds or has
  // started matches nothing.
  const { rows } = await sql<{ job: JobRow; attempt: AttemptRow }>`
    with started as (
      update jobs set state = 'running', reason = null, attempt_count = attempt_count + 1,
        worker = ${workerName}::text, started_at = ${ctx.now}::bigint, claim_reason = ${why}::text
      where id = (select id from jobs where id = ${jobId}::bigint and state = 'pending' for update skip locked)
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
  return row ? { jobRow: row.job, attempt: row.attempt } : null;
}
