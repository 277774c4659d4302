import type { EventDataMap } from '@switchyard/protocol';
import type { WriteContext } from './write-context.ts';

type JobFinishedData = EventDataMap['job.finished'];

/** What `job.finished` carries beyond the job, so a consumer can act without a second query. */
export type JobFinishedFacts = Pick<JobFinishedData, 'result' | 'attempt' | 'artifacts'>;

/** Completes a `job.finished` event inside the transaction that made the job final. */
export async function jobFinishedData(
  _ctx: WriteContext,
  given: Omit<JobFinishedData, keyof JobFinishedFacts>,
): Promise<JobFinishedData> {
  const { job } = given;
  return { ...given, result: job.state, attempt: job.attemptCount, artifacts: [] };
}
