import type { Job, JobSummary, Push, SwitchyardEvent } from '@switchyard/protocol/browser';

/** Which pushes a list shows: its server-side filter (newer pushes that match join the top). */
export interface PushListFilter {
  repo?: string | undefined;
  branch?: string | undefined;
}

const JOB_EVENTS = new Set(['job.waiting', 'job.pending', 'job.started', 'job.finished', 'attempt.finished']);

/**
 * A list of pushes (newest first) after a batch of events, without asking the server: new
 * pushes join the top, job changes recolour their symbol, a retrigger adds one. Returns the
 * same array when nothing in it changed, so React re-renders nothing.
 */
export function applyEvents(
  pushes: readonly Push[],
  events: readonly SwitchyardEvent[],
  filter: PushListFilter,
): readonly Push[] {
  let result: Push[] | null = null;
  const list = () => {
    result ??= [...pushes];
    return result;
  };
  const current = () => result ?? pushes;
  for (const event of events) {
    if (event.type === 'push.created' || event.type === 'push.completed') {
      const push = (event.data as { push: Push }).push;
      const index = current().findIndex((p) => p.id === push.id);
      if (index >= 0) {
        const known = current()[index] as Push;
        const updated = mergeJobs(known, push.jobs);
        if (updated !== known) list()[index] = updated;
      } else if (event.type === 'push.created' && matches(push, filter)) {
        const newer = current().findIndex((p) => p.id < push.id);
        list().splice(newer < 0 ? current().length : newer, 0, push);
      }
      continue;
    }
    if (!JOB_EVENTS.has(event.type)) continue;
    const job = (event.data as { job: Job }).job;
    const index = current().findIndex((p) => p.id === job.pushId);
    if (index < 0) continue;
    const push = current()[index] as Push;
    const summary: JobSummary = { id: job.id, builder: job.builder, state: job.state, attemptCount: job.attemptCount };
    const updated = mergeJobs(push, [summary]);
    if (updated !== push) list()[index] = updated;
  }
  return result ?? pushes;
}

/** The push with these job summaries put in (by id; unknown ones appended), or the same push if none differ. */
function mergeJobs(push: Push, jobs: readonly JobSummary[]): Push {
  let merged: JobSummary[] | null = null;
  for (const job of jobs) {
    const all = merged ?? push.jobs;
    const index = all.findIndex((j) => j.id === job.id);
    const known = all[index];
    if (known && known.state === job.state && known.attemptCount === job.attemptCount) continue;
    merged ??= [...push.jobs];
    if (index >= 0) merged[index] = job;
    else merged.push(job);
  }
  return merged ? { ...push, jobs: merged } : push;
}

function matches(push: Push, filter: PushListFilter): boolean {
  return (!filter.repo || push.repo === filter.repo) && (!filter.branch || push.branch === filter.branch);
}
