import type { AttemptState, JobState } from '@switchyard/protocol';
import { type QueryCreator, type RawBuilder, sql, type UpdateObject } from 'kysely';
import { dialectOf } from './dialect.ts';
import type { AttemptRow, JobRow, PushRow, WorkerRow } from './mappers.ts';
import type { Database } from './schema.ts';
import type { WriteContext } from './write-context.ts';

/** How an attempt ends. */
export interface AttemptEnd {
  state: AttemptState;
  reason: string | null;
  message: string | null;
  finishedAt: number;
}

/** What becomes of a job whose attempt ends: queued again for a retry, or final. */
export type JobChange = { kind: 'retry'; reason: string } | { kind: 'final'; state: JobState; reason: string | null };

/** A job made final, with what the statement that did it read along (finalJobUpdate). */
export type FinalJobRow = JobRow & {
  has_artifacts: number | boolean;
  push_with_jobs?: { push: PushRow; jobs: JobRow[] } | null;
};

/**
 * The writes an attempt's end makes, all decided before any is sent: the attempt ended, with its
 * unfinished steps; its worker's row (`values` as closeAttempt worked them out); and its job's
 * change, with whether the statement making it final brings the push's row and jobs along.
 */
export interface AttemptEndWrites {
  attemptId: number;
  end: AttemptEnd;
  worker: { name: string; values: UpdateObject<Database, 'workers'> } | null;
  job: { id: number; change: JobChange; withPush: boolean } | null;
}

/** The rows as the writes left them. */
export interface AttemptEndRows {
  attempt: AttemptRow;
  worker: WorkerRow | null;
  job: JobRow | FinalJobRow | null;
}

/**
 * Sends an attempt's end. On PostgreSQL every write is one statement (data-modifying WITHs), one
 * round trip where there were three or four: a report ending a job waits for each, and so does the
 * worker's next claim. They lock the attempt's steps, the attempt, its worker and its job in that
 * order, the order every end of an attempt takes them. SQLite has no data-modifying WITH, and a
 * statement there costs no round trip: they go one by one.
 */
export async function writeAttemptEnd(ctx: WriteContext, writes: AttemptEndWrites): Promise<AttemptEndRows> {
  const steps = (db: QueryCreator<Database>) => closeSteps(db, writes.attemptId, writes.end);
  const attempt = (db: QueryCreator<Database>) => endAttemptRow(db, writes.attemptId, writes.end).returningAll();
  const worker = writes.worker;
  const workerRow = worker && ((db: QueryCreator<Database>) => freeWorker(db, worker.name, worker.values));
  const job = writes.job;
  const jobRow = job && ((db: QueryCreator<Database>) => changeJob(ctx, db, job.id, job.change, job.withPush));
  if (dialectOf(ctx.trx) === 'sqlite') {
    await steps(ctx.trx).execute();
    return {
      attempt: await attempt(ctx.trx).executeTakeFirstOrThrow(),
      worker: (workerRow && (await workerRow(ctx.trx).executeTakeFirstOrThrow())) ?? null,
      job: (jobRow && (await jobRow(ctx.trx).executeTakeFirstOrThrow())) ?? null,
    };
  }
  // The WITHs add tables the statement's types cannot widen to; the rows come back as JSON.
  let query = ctx.trx.with('closed_steps', (db) =>
    steps(db).returning(sql.lit(1).as('closed')),
  ) as unknown as QueryCreator<Database>;
  query = query.with('ended_attempt', (db) => attempt(db)) as unknown as QueryCreator<Database>;
  if (workerRow) query = query.with('freed_worker', (db) => workerRow(db)) as unknown as QueryCreator<Database>;
  if (jobRow) query = query.with('changed_job', (db) => jobRow(db)) as unknown as QueryCreator<Database>;
  // Scalar subqueries run in the order of the select list, and each CTE when it is first read.
  const rows = await query
    .selectNoFrom([
      sql<number>`(select count(*) from closed_steps)`.as('closed_steps'),
      sql<AttemptRow>`(select to_jsonb(ended_attempt) from ended_attempt)`.as('attempt'),
      (workerRow ? sql<WorkerRow | null>`(select to_jsonb(freed_worker) from freed_worker)` : sql<null>`null`).as(
        'worker',
      ),
      (jobRow ? sql<FinalJobRow | null>`(select to_jsonb(changed_job) from changed_job)` : sql<null>`null`).as('job'),
    ])
    .executeTakeFirstOrThrow();
  return { attempt: rows.attempt, worker: rows.worker, job: rows.job };
}

function closeSteps(db: QueryCreator<Database>, attemptId: number, end: AttemptEnd) {
  return db
    .updateTable('steps')
    .set({ state: end.state === 'cancelled' ? 'cancelled' : 'exception', finished_at: end.finishedAt })
    .where('attempt_id', '=', attemptId)
    .where('finished_at', 'is', null);
}

function endAttemptRow(db: QueryCreator<Database>, attemptId: number, end: AttemptEnd) {
  return db
    .updateTable('attempts')
    .set({
      state: end.state,
      reason: end.reason,
      message: end.message,
      finished_at: end.finishedAt,
      lease_expires_at: null,
    })
    .where('id', '=', attemptId);
}

function freeWorker(db: QueryCreator<Database>, name: string, values: UpdateObject<Database, 'workers'>) {
  return db.updateTable('workers').set(values).where('name', '=', name).returningAll();
}

function changeJob(ctx: WriteContext, db: QueryCreator<Database>, jobId: number, change: JobChange, withPush: boolean) {
  if (change.kind === 'final') return finalJobUpdate(ctx, db, jobId, change.state, change.reason, withPush);
  return db
    .updateTable('jobs')
    .set({
      state: 'pending',
      reason: change.reason,
      pending_at: ctx.now,
      // Its place in the queue stays: a lost machine should not send the job to the back.
      worker: null,
      claim_reason: null,
    })
    .where('id', '=', jobId)
    .returningAll();
}

/**
 * Makes a job final. The same statement says whether the job has artifacts, which job.finished
 * lists, and with `withPush` (PostgreSQL only) brings the push's row and jobs, which settling
 * its dependents and completing the push read next.
 */
export function finalJobUpdate(
  ctx: WriteContext,
  db: QueryCreator<Database>,
  jobId: number,
  state: JobState,
  reason: string | null,
  withPush: boolean,
) {
  return db
    .updateTable('jobs')
    .set({ state, reason, finished_at: ctx.now })
    .where('id', '=', jobId)
    .returningAll()
    .returning((eb) =>
      eb
        .exists(eb.selectFrom('artifacts').select('artifacts.id').whereRef('artifacts.job_id', '=', 'jobs.id'))
        .as('has_artifacts'),
    )
    .$if(withPush, (q) => q.returning(pushWithJobs(sql.ref('jobs.push_id')).as('push_with_jobs')));
}

/** On PostgreSQL, the push `pushId` (a value or a column) with its jobs in id order, as one JSON value. */
export function pushWithJobs(pushId: number | RawBuilder<number>) {
  return sql<{ push: PushRow; jobs: JobRow[] } | null>`(select json_build_object('push', to_json(pushes),
    'jobs', (select coalesce(json_agg(jobs order by jobs.id), '[]'::json) from jobs where jobs.push_id = pushes.id))
    from pushes where pushes.id = ${pushId})`;
}
