/**
 * Which pending job a claiming worker gets. Pure: a snapshot in, a decision out, no I/O, so the
 * same code serves the live coordinator and tests without a server.
 *
 * Invariant: a job the worker can't take (missing tags) never blocks the jobs behind it in the
 * queue — Buildbot's head-of-line blocking (a `nextWorker` returning None stalls the builder's
 * whole queue) is the failure this avoids.
 */
export interface PendingJob {
  id: number;
  priority: number;
  requiredTags: Record<string, string>;
}

export interface ClaimingWorker {
  name: string;
  pool: string;
  tags: Record<string, string>;
}

export type ChooseJobResult = { job: PendingJob; skipped: number } | { job: null; reason: string };

export function workerHasTags(worker: ClaimingWorker, required: Record<string, string>): boolean {
  return Object.entries(required).every(([key, value]) => worker.tags[key] === value);
}

/** Candidates come in queue order (priority, then submission); the first the worker can run wins. */
export function chooseJob(candidates: readonly PendingJob[], worker: ClaimingWorker): ChooseJobResult {
  if (candidates.length === 0) return { job: null, reason: `no pending job in pool ${worker.pool}` };
  for (let i = 0; i < candidates.length; i++) {
    const job = candidates[i] as PendingJob;
    if (workerHasTags(worker, job.requiredTags)) return { job, skipped: i };
  }
  return { job: null, reason: `none of the ${candidates.length} pending jobs matches this worker's tags` };
}
