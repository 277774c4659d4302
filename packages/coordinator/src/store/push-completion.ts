import { type EventDataMap, isFinalJobState, type JobState } from '@switchyard/protocol';
import { summarizePush } from '../stats/push-outcome.ts';
import { toPush } from './mappers.ts';
import { jobsOfPush } from './transitions.ts';
import type { WriteContext } from './write-context.ts';

/**
 * Announces `push.completed` for every push this transaction created or finished a job of,
 * once all of its jobs are final. A retrigger reopens a push, so it can complete again.
 */
export async function announceCompletedPushes(ctx: WriteContext): Promise<void> {
  const touched = new Set<number>();
  for (const { event, attributes } of ctx.events) {
    if (attributes.push === null) continue;
    // A push created with a job still to run is not complete: no need to read its jobs back.
    const allFinal =
      event.type === 'push.created' &&
      (event.data as EventDataMap['push.created']).push.jobs.every((job) => isFinalJobState(job.state));
    if (allFinal || event.type === 'job.finished') touched.add(attributes.push);
  }
  for (const pushId of touched) {
    const jobs = await jobsOfPush(ctx, pushId);
    if (!jobs.every((job) => isFinalJobState(job.state as JobState))) continue;
    const push =
      ctx.pushes.get(pushId) ??
      (await ctx.trx.selectFrom('pushes').selectAll().where('id', '=', pushId).executeTakeFirstOrThrow());
    const summary = summarizePush(
      push.created_at,
      jobs.map((job) => ({
        id: job.id,
        builder: job.builder,
        state: job.state,
        reason: job.reason,
        finishedAt: job.finished_at,
      })),
    );
    await ctx.emit(
      'push.completed',
      { push: toPush(push, jobs), summary },
      { repo: push.repo, branch: push.branch, pushId: push.id },
    );
  }
}
