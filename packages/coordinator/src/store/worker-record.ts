import type { AttemptState } from '@switchyard/protocol';
import { type RawBuilder, sql } from 'kysely';
import { MEDIAN_SAMPLE, speedAfterSuccess } from '../scheduler/learned-speed.ts';
import { workerLesson } from '../scheduler/worker-lesson.ts';
import type { AttemptRow, JobRow, WorkerRow } from './mappers.ts';
import { SUCCEEDED } from './partial-indexes.ts';
import type { WriteContext } from './write-context.ts';

/**
 * The builder's latest successful jobs, newest first: a successful job's start and finish are
 * those of its successful attempt; the partial index jobs_succeeded_by_builder makes this a seek,
 * not a scan of the whole history. A job whose attempt is ending is not final yet, so it is not
 * among them. `builder`: a name, or an expression of the statement it is part of.
 */
function recentSuccesses(ctx: WriteContext, builder: string | RawBuilder<string>) {
  return ctx.trx
    .selectFrom('jobs')
    .select(['started_at', 'finished_at'])
    .where('builder', '=', builder)
    .where('state', '=', SUCCEEDED)
    .orderBy('finished_at', 'desc')
    .limit(MEDIAN_SAMPLE - 1);
}

/**
 * On PostgreSQL, the durations of those jobs as one JSON array: an expression, so that the
 * statement that reads the worker's row brings them along rather than a statement of their own.
 */
export function recentSuccessDurations(ctx: WriteContext, builder: string | RawBuilder<string>) {
  return sql<number[]>`(select coalesce(jsonb_agg(finished_at - started_at order by finished_at desc), '[]'::jsonb)
    from (${recentSuccesses(ctx, builder)}) as recent)`;
}

/** What an ended attempt writes to its worker's row, and the bench it starts, if it starts one. */
export interface WorkerOutcome {
  values: Partial<Pick<WorkerRow, 'exception_streak' | 'benched_until' | 'speed'>>;
  bench: { until: number; streak: number; reason: string } | null;
}

/**
 * What an ended attempt teaches about its worker (scheduler/worker-lesson.ts), given the worker's
 * row as it was before, and the builder's recent durations when the caller read them already.
 */
export async function workerOutcome(
  ctx: WriteContext,
  attempt: AttemptRow,
  job: JobRow,
  worker: WorkerRow,
  recentDurations?: number[],
): Promise<WorkerOutcome> {
  const lesson = workerLesson(
    { state: attempt.state as AttemptState, reason: attempt.reason, number: attempt.number, jobId: job.id },
    worker.exception_streak,
    ctx.now,
  );
  if (lesson.kind === 'nothing') return { values: {}, bench: null };
  if (lesson.kind === 'bench') {
    return {
      values: { exception_streak: lesson.streak, benched_until: lesson.benchedUntil },
      bench: { until: lesson.benchedUntil, streak: lesson.streak, reason: lesson.reason },
    };
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
  return { values: { exception_streak: 0, benched_until: null, speed }, bench: null };
}
