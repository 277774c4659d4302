import { LazyOrder } from './lazy-order.ts';
import type { Decision, SchedulableJob, SchedulableWorker, SchedulingPolicy, Snapshot } from './model.ts';
import { fitBandRank, queueRank } from './queue-order.ts';
import { compareFit, describeFit, type Fit, fitOf, workerHasTags } from './worker-fit.ts';

/** The most jobs of the fit band weighed against each worker: bounds the work of one decision. */
const FIT_WINDOW = 32;

interface Queued {
  job: SchedulableJob;
  rank: number;
  taken: boolean;
}

/**
 * Pairs waiting workers with pending jobs: the whole scheduler, pure.
 *
 * Per pool, repeatedly: the most urgent job that some waiting worker can run (by queue rank:
 * priority, aging, submission) opens a window of jobs no more than `fitBand` levels behind it;
 * of every (job, worker) pair in that window the best fit wins (warm caches, then learned speed
 * against the builder's preference), ties going to the earlier job and the longest-idle worker.
 * Jobs no waiting worker can run are passed over, so they never block the jobs behind them.
 * A job of a coalescing builder runs as the newest pending job of its builder and branch,
 * standing for up to `limit − 1` older ones.
 */
export function schedule(snapshot: Snapshot): Decision[] {
  const { policy, now } = snapshot;
  const workersByPool = new Map<string, SchedulableWorker[]>();
  for (const worker of snapshot.idle) {
    if (policy.health && worker.benchedUntil !== null && worker.benchedUntil > now) continue;
    const list = workersByPool.get(worker.pool);
    if (list) list.push(worker);
    else workersByPool.set(worker.pool, [worker]);
  }
  const jobsByPool = new Map<string, SchedulableJob[]>();
  for (const job of snapshot.pending) {
    if (!workersByPool.has(job.pool)) continue;
    const list = jobsByPool.get(job.pool);
    if (list) list.push(job);
    else jobsByPool.set(job.pool, [job]);
  }
  const decisions: Decision[] = [];
  for (const [pool, jobs] of jobsByPool) {
    decisions.push(...schedulePool(jobs, workersByPool.get(pool) as SchedulableWorker[], policy, now));
  }
  return decisions;
}

function schedulePool(
  jobs: SchedulableJob[],
  workers: SchedulableWorker[],
  policy: SchedulingPolicy,
  now: number,
): Decision[] {
  const entries: Queued[] = jobs.map((job) => ({ job, rank: queueRank(job, policy), taken: false }));
  const queue = new LazyOrder(entries, inQueueOrder);
  const groups = policy.coalescing ? new CoalesceGroups(entries) : null;
  // Coalescing targets are members of their group, but never queue entries of their own.
  const pickable = (entry: Queued) => !entry.taken && entry.job.coalesceTargetOnly !== true;
  const free = [...workers].sort((a, b) => a.idleSince - b.idleSince);
  const band = fitBandRank(policy);
  const decisions: Decision[] = [];
  // Jobs before `cursor` are taken or can't be run by any worker still free (the free set only shrinks).
  let cursor = 0;
  const runnable = new TagCheck(free);
  while (free.length > 0) {
    let head = queue.at(cursor);
    while (head !== undefined && !(pickable(head) && runnable.anyCanRun(head.job))) head = queue.at(++cursor);
    if (head === undefined) break;
    const pick = policy.affinity
      ? bestPair(queue, cursor, head.rank + band, free, pickable)
      : randomWorkerFor(head, free, policy.random);
    const folded = groups?.take(pick.entry) ?? null;
    const coalesced = folded?.coalesced ?? [];
    const run = folded?.run ?? pick.entry;
    // The picked job itself may be neither run nor folded (older than the limit): it stays queued.
    run.taken = true;
    free.splice(free.indexOf(pick.worker), 1);
    runnable.taken(pick.worker);
    decisions.push({
      jobId: run.job.id,
      worker: pick.worker.name,
      coalesced: coalesced.map((c) => c.job.id),
      why: explain(pick, run, coalesced.length, head, entries, policy, now),
    });
  }
  return decisions;
}

interface Pick {
  entry: Queued;
  worker: SchedulableWorker;
  fit: Fit | null;
}

function inQueueOrder(a: Queued, b: Queued): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.job.id < b.job.id);
}

function bestPair(
  queue: LazyOrder<Queued>,
  from: number,
  maxRank: number,
  free: SchedulableWorker[],
  pickable: (entry: Queued) => boolean,
): Pick {
  let best: Pick | null = null;
  let considered = 0;
  for (let i = from; considered < FIT_WINDOW; i++) {
    const entry = queue.at(i);
    if (entry === undefined) break;
    if (!pickable(entry)) continue;
    if (entry.rank > maxRank && best !== null) break;
    let any = false;
    for (const worker of free) {
      if (!workerHasTags(worker, entry.job.requiredTags)) continue;
      any = true;
      const fit = fitOf(entry.job, worker);
      // Ties keep the earlier job and, for one job, the worker idle longest (free is in that order).
      if (best === null || compareFit(fit, best.fit as Fit) < 0) best = { entry, worker, fit };
    }
    if (any) considered++;
  }
  return best as Pick;
}

function randomWorkerFor(entry: Queued, free: SchedulableWorker[], random: () => number): Pick {
  const able = free.filter((w) => workerHasTags(w, entry.job.requiredTags));
  const worker = able[Math.min(able.length - 1, Math.floor(random() * able.length))] as SchedulableWorker;
  return { entry, worker, fit: null };
}

/** Free workers counted by tag set: a pool has few distinct ones, so "can anyone run it" stays cheap. */
class TagCheck {
  private readonly bySet = new Map<string, { tags: Readonly<Record<string, string>>; free: number }>();

  constructor(workers: readonly SchedulableWorker[]) {
    for (const worker of workers) {
      const key = tagKey(worker);
      const entry = this.bySet.get(key);
      if (entry) entry.free++;
      else this.bySet.set(key, { tags: worker.tags, free: 1 });
    }
  }

  taken(worker: SchedulableWorker): void {
    const entry = this.bySet.get(tagKey(worker));
    if (entry) entry.free--;
  }

  anyCanRun(job: SchedulableJob): boolean {
    for (const { tags, free } of this.bySet.values()) {
      if (free > 0 && workerHasTags({ tags }, job.requiredTags)) return true;
    }
    return false;
  }
}

function tagKey(worker: SchedulableWorker): string {
  return JSON.stringify(Object.entries(worker.tags).sort());
}

function groupKey(job: SchedulableJob): string {
  return `${job.repo}\u0000${job.builder}\u0000${job.branch}`;
}

/** Coalescible jobs per builder and branch, oldest first; built on the first coalescing pick. */
class CoalesceGroups {
  private members: Map<string, Queued[]> | null = null;

  constructor(private readonly entries: readonly Queued[]) {}

  /**
   * When `picked` coalesces: the newest pending job of its builder and branch runs, and the
   * `limit − 1` pending jobs just older than it are folded into it (older ones beyond the limit
   * stay queued and fold together later, so every run covers a contiguous range of pushes).
   */
  take(picked: Queued): { run: Queued; coalesced: Queued[] } | null {
    const limit = picked.job.coalesceLimit;
    if (limit === null || limit < 2) return null;
    const list = (this.groups().get(groupKey(picked.job)) ?? []).filter((e) => !e.taken);
    if (list.length < 2) return null;
    const coalesced = list.slice(Math.max(0, list.length - limit), -1);
    for (const entry of coalesced) entry.taken = true;
    return { run: list.at(-1) as Queued, coalesced };
  }

  private groups(): Map<string, Queued[]> {
    if (this.members) return this.members;
    const members = new Map<string, Queued[]>();
    for (const entry of this.entries) {
      if (entry.job.coalesceLimit === null) continue;
      const key = groupKey(entry.job);
      const list = members.get(key);
      if (list) list.push(entry);
      else members.set(key, [entry]);
    }
    for (const list of members.values()) {
      list.sort((a, b) => a.job.pendingSince - b.job.pendingSince || a.job.id - b.job.id);
    }
    this.members = members;
    return members;
  }
}

function explain(
  pick: Pick,
  run: Queued,
  coalescedCount: number,
  head: Queued,
  entries: readonly Queued[],
  policy: SchedulingPolicy,
  now: number,
): string {
  const reasons: string[] = [];
  if (pick.fit === null) reasons.push('a random waiting worker (worker affinity is off)');
  else {
    const fitReasons = describeFit(pick.entry.job, pick.worker, pick.fit, now);
    reasons.push(...(fitReasons.length > 0 ? fitReasons : ['no waiting worker had a warm cache for it']));
  }
  const order = policy.priorities ? 'priority, then age' : 'FIFO';
  const ahead = entries.filter((e) => !e.taken && !e.job.coalesceTargetOnly && inQueueOrder(e, pick.entry)).length;
  if (ahead === 0) reasons.push(`first in its pool's queue (${order})`);
  else if (pick.entry === head) {
    reasons.push(
      `first in its pool's queue (${order}) that a waiting worker can run; ${ahead} ahead need other workers`,
    );
  } else {
    reasons.push(
      `taken ahead of ${ahead} more urgent job(s) it fits better, within ${policy.fitBand} priority level(s)`,
    );
  }
  if (coalescedCount > 0) {
    reasons.push(
      `runs the newest of ${coalescedCount + 1} pending ${run.job.builder} jobs on ${run.job.branch}; ${coalescedCount} coalesced into it`,
    );
  }
  return reasons.join('; ');
}
