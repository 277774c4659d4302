import { MEDIAN_SAMPLE, median, nextSpeed } from '../scheduler/learned-speed.ts';
import { benchDurationMs } from '../scheduler/worker-health.ts';
import { type AttemptRow, iso, type JobRow, toWorker } from './mappers.ts';
import type { WriteContext } from './write-context.ts';

/**
 * Exceptions that say nothing about the machine's health, so they don't bench it: the job's own
 * timeout, and an operator stopping the worker mid-job.
 */
const NOT_THE_MACHINES_FAULT = new Set(['timeout', 'worker-stopped']);

/**
 * What an ended attempt teaches about its worker: a success refines its learned speed against
 * the builder's median; an exception extends its streak and benches it (10 s doubling up to
 * 1 h); a success or an ordinary failure ends the streak. Cancelled attempts teach nothing.
 */
export async function recordWorkerOutcome(ctx: WriteContext, attempt: AttemptRow, job: JobRow): Promise<void> {
  if (attempt.state === 'cancelled' || attempt.state === 'running') return;
  const worker = await ctx.trx.selectFrom('workers').selectAll().where('name', '=', attempt.worker).executeTakeFirst();
  if (!worker) return;
  if (attempt.state === 'exception') {
    if (attempt.reason !== null && NOT_THE_MACHINES_FAULT.has(attempt.reason)) return;
    const streak = worker.exception_streak + 1;
    const until = ctx.now + benchDurationMs(streak);
    const benched = await ctx.trx
      .updateTable('workers')
      .set({ exception_streak: streak, benched_until: until })
      .where('name', '=', worker.name)
      .returningAll()
      .executeTakeFirstOrThrow();
    await ctx.emit('worker.benched', {
      worker: toWorker(benched, null),
      until: iso(until),
      streak,
      reason: `attempt ${attempt.number} of job ${job.id} ended in exception (${attempt.reason ?? 'unknown'})`,
    });
    return;
  }
  let speed = worker.speed;
  if (attempt.state === 'success' && attempt.finished_at !== null) {
    const recent = await ctx.trx
      .selectFrom('attempts')
      .innerJoin('jobs', 'jobs.id', 'attempts.job_id')
      .select(['attempts.started_at', 'attempts.finished_at'])
      .where('jobs.builder', '=', job.builder)
      .where('attempts.state', '=', 'success')
      .orderBy('attempts.finished_at', 'desc')
      .limit(MEDIAN_SAMPLE)
      .execute();
    const durations = recent.map((r) => (r.finished_at as number) - r.started_at);
    speed = nextSpeed(worker.speed, attempt.finished_at - attempt.started_at, median(durations));
  }
  await ctx.trx
    .updateTable('workers')
    .set({ exception_streak: 0, benched_until: null, speed })
    .where('name', '=', worker.name)
    .execute();
}
