import type { AttemptState } from '@switchyard/protocol';
import { sql } from 'kysely';
import { MEDIAN_SAMPLE, speedAfterSuccess } from '../scheduler/learned-speed.ts';
import { workerLesson } from '../scheduler/worker-lesson.ts';
import { type AttemptRow, iso, type JobRow, toWorker, type WorkerRow } from './mappers.ts';
import type { WriteContext } from './write-context.ts';

/**
 * The builder's latest successful jobs, newest first: a successful job's start and finish are
 * those of its successful attempt; the partial index jobs_succeeded_by_builder makes this a seek,
 * not a scan of the whole history. A job whose attempt is ending is not final yet, so it is not
 * among them.
 */
function recentSuccesses(ctx: WriteContext, builder: string) {
  return ctx.trx
    .selectFrom('jobs')
    .select(['started_at', 'finished_at'])
    .where('builder', '=', builder)
    .where('state', '=', 'success')
    .orderBy('finished_at', 'desc')
    .limit(MEDIAN_SAMPLE - 1);
}

/**
 * On PostgreSQL, the durations of those jobs as one JSON array: an expression, so that the
 * statement that frees the worker brings them along rather than a statement of their own.
 */
export function recentSuccessDurations(ctx: WriteContext, builder: string) {
  return sql<number[]>`(select coalesce(jsonb_agg(finished_at - started_at order by finished_at desc), '[]'::jsonb)
    from (${recentSuccesses(ctx, builder)}) as recent)`;
}

/**
 * Writes what an ended attempt teaches about its worker (scheduler/worker-lesson.ts), given the
 * worker's row, and the builder's recent durations when the caller read them already.
 */
export async function recordWorkerOutcome(
  ctx: WriteContext,
  attempt: AttemptRow,
  job: JobRow,
  worker: WorkerRow,
  recentDurations?: number[],
): Promise<void> {
  const lesson = workerLesson(
    { state: attempt.state as AttemptState, reason: attempt.reason, number: attempt.number, jobId: job.id },
    worker.exception_streak,
    ctx.now,
  );
  if (lesson.kind === 'nothing') return;
  if (lesson.kind === 'bench') {
    const benched = await ctx.trx
      .updateTable('workers')
      .set({ exception_streak: lesson.streak, benched_until: lesson.benchedUntil })
      .where('name', '=', worker.name)
      .returningAll()
      .executeTakeFirstOrThrow();
    await ctx.emit('worker.benched', {
      worker: toWorker(benched, null, ctx.now),
      until: iso(lesson.benchedUntil),
      streak: lesson.streak,
      reason: lesson.reason,
    });
    return;
  }
  let speed = worker.speed;
  if (lesson.learnsSpeed && attempt.finished_at !== null) {
    const earlier =
      recentDurations ??
      (await recentSuccesses(ctx, job.builder).execute()).map(
        (r) => (r.finished_at as number) - (r.started_at as number),
      );
    speed = speedAfterSuccess(worker.speed, attempt.finished_at - attempt.started_at, earlier);
  }
  await ctx.trx
    .updateTable('workers')
    .set({ exception_streak: 0, benched_until: null, speed })
    .where('name', '=', worker.name)
    .execute();
}
