import {
  type Job,
  type JobSummary,
  type Push,
  type PushResult,
  pushResultOf,
  type SwitchyardEvent,
} from '@switchyard/protocol/browser';

/** The pushes list's filter, as the server applies it (`GET /api/v1/pushes`) and the page re-checks it. */
export interface PushListFilter {
  repo?: string | undefined;
  branch?: string | undefined;
  author?: string | undefined;
  revision?: string | undefined;
  result?: PushResult | undefined;
}

/**
 * A list of pushes as the page holds it: what the server returned for its filter, newest first,
 * plus what the events added since; `next` is where the next older page starts (null: none);
 * `cursor`, the event id its first page was read at (every event up to it is in it).
 */
export interface PushListData {
  pushes: readonly Push[];
  next: number | null;
  cursor: number;
}

const JOB_EVENTS = new Set(['job.waiting', 'job.pending', 'job.started', 'job.finished', 'attempt.finished']);

/** Whether a push passes the filter, read as the server reads it (see `PushStore.list`). */
export function matchesFilter(push: Push, filter: PushListFilter): boolean {
  return matchesFixed(push, filter) && (!filter.result || pushResultOf(push.jobs) === filter.result);
}

/** The parts of the filter a push keeps for its life (everything but its result, which moves). */
function matchesFixed(push: Push, filter: PushListFilter): boolean {
  return (
    (!filter.repo || push.repo === filter.repo) &&
    (!filter.branch || push.branch === filter.branch) &&
    (!filter.author || push.author.toLowerCase().includes(filter.author.toLowerCase())) &&
    (!filter.revision || push.revision.toLowerCase().startsWith(filter.revision.toLowerCase()))
  );
}

/**
 * A list of pushes after a batch of events, without asking the server: new pushes join the top,
 * job changes recolour their symbol, a retrigger adds one. A list filtered by result keeps the
 * pushes it holds whatever their result becomes (the page shows those that match now), takes in
 * new pushes whatever their first result (they may come to match), and a push that completes
 * with the result asked for, if it falls within the pushes read. Returns the same object when
 * nothing in it changed, so React re-renders nothing.
 */
export function applyEvents(
  data: PushListData,
  events: readonly SwitchyardEvent[],
  filter: PushListFilter,
): PushListData {
  const pushes = data.pushes;
  let result: Push[] | null = null;
  const list = () => {
    result ??= [...pushes];
    return result;
  };
  const current = () => result ?? pushes;
  const insert = (push: Push) => {
    const newer = current().findIndex((p) => p.id < push.id);
    list().splice(newer < 0 ? current().length : newer, 0, push);
  };
  for (const event of events) {
    if (event.type === 'push.created' || event.type === 'push.completed') {
      const push = (event.data as { push: Push }).push;
      const index = current().findIndex((p) => p.id === push.id);
      if (index >= 0) {
        const known = current()[index] as Push;
        const updated = mergeJobs(known, push.jobs);
        if (updated !== known) list()[index] = updated;
      } else if (event.type === 'push.created' && matchesFixed(push, filter)) {
        insert(push);
      } else if (
        event.type === 'push.completed' &&
        filter.result !== undefined &&
        (data.next === null || push.id > data.next) &&
        matchesFilter(push, filter)
      ) {
        insert(push);
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
  return result ? { ...data, pushes: result } : data;
}

/**
 * Whether a list was read before the event stream's start (`streamCursor`), so that events
 * between the two may be missing from it; one not read yet, or a stream start not known, may.
 */
export function readBefore(list: PushListData | undefined, streamCursor: number | undefined): boolean {
  return list === undefined || streamCursor === undefined || list.cursor < streamCursor;
}

/** The list cut to its newest `max` pushes; the next page then starts after the last one kept. */
export function keepNewest(data: PushListData, max: number): PushListData {
  if (data.pushes.length <= max) return data;
  const pushes = data.pushes.slice(0, max);
  return { ...data, pushes, next: (pushes.at(-1) as Push).id };
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
