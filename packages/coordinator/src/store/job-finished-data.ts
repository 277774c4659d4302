import { blobPath, type EventDataMap } from '@switchyard/protocol';
import type { WriteContext } from './write-context.ts';

type JobFinishedData = EventDataMap['job.finished'];

/** What `job.finished` carries beyond the job, so a consumer can act without a second query. */
export type JobFinishedFacts = Pick<JobFinishedData, 'result' | 'attempt' | 'artifacts'>;

/** Completes a `job.finished` event inside the transaction that made the job final. */
export async function jobFinishedData(
  ctx: WriteContext,
  given: Omit<JobFinishedData, keyof JobFinishedFacts>,
): Promise<JobFinishedData> {
  const { job } = given;
  const artifacts = ctx.withoutArtifacts.has(job.id)
    ? []
    : await ctx.trx
        .selectFrom('artifacts')
        .select(['name', 'size', 'sha256', 'content_type'])
        .where('job_id', '=', job.id)
        .orderBy('name')
        .execute();
  return {
    ...given,
    result: job.state,
    attempt: job.attemptCount,
    artifacts: artifacts.map((a) => ({
      name: a.name,
      size: a.size,
      sha256: a.sha256,
      contentType: a.content_type,
      url: blobPath(a.sha256),
    })),
  };
}
