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
    // A successful job's start and finish are those of its successful attempt; the partial index
    // jobs_succeeded_by_builder makes this a seek, not a scan of the whole history.
    const recent = await ctx.trx
      .selectFrom('jobs')
      .select(['started_at', 'finished_at'])
      .where('builder', '=', job.builder)
      .where('state', '=', 'success')
      .orderBy('finished_at', 'desc')
      .limit(MEDIAN_SAMPLE - 1)
      .execute();
    // This job is not final yet (its attempt ends first), so its own run joins the sample here.
    const duration = attempt.finished_at - attempt.started_at;
    const durations = [duration, ...recent.map((r) => (r.finished_at as number) - (r.started_at as number))];
    speed = nextSpeed(worker.speed, duration, median(durations));
  }
  await ctx.trx
    .updateTable('workers')
    .set({ exception_streak: 0, benched_until: null, speed })
    .where('name', '=', worker.name)
    .execute();
}
