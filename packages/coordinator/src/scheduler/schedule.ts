import type { Decision, SchedulableJob, SchedulableWorker, SchedulingPolicy, Snapshot } from './model.ts';
import { fitBandRank, queueRank } from './queue-order.ts';
import { compareFit, describeFit, type Fit, fitOf, workerHasTags } from './worker-fit.ts';

/** The most jobs of the fit band weighed against each worker: bounds the work of one decision. */
const FIT_WINDOW = 32;

interface Queued {
  job: SchedulableJob;
  rank: number;
  /** 1-based place in the pool's queue, for explanations. */
  place: number;
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
  const queue: Queued[] = jobs
    .map((job) => ({ job, rank: queueRank(job, policy), place: 0, taken: false }))
    .sort((a, b) => a.rank - b.rank || a.job.id - b.job.id);
  queue.forEach((entry, index) => {
    entry.place = index + 1;
  });
  const groups = policy.coalescing ? coalesceGroups(queue) : null;
  // Coalescing targets are members of their group, but never queue entries of their own.
  const pickable = (entry: Queued) => !entry.taken && entry.job.coalesceTargetOnly !== true;
  const free = [...workers].sort((a, b) => a.idleSince - b.idleSince);
  const band = fitBandRank(policy);
  const decisions: Decision[] = [];
  let cursor = 0;
  while (free.length > 0) {
    const runnable = new TagCheck(free);
    while (cursor < queue.length && !pickable(queue[cursor] as Queued)) cursor++;
    let headIndex = cursor;
    while (headIndex < queue.length) {
      const entry = queue[headIndex] as Queued;
      if (pickable(entry) && runnable.anyCanRun(entry.job)) break;
      headIndex++;
    }
    if (headIndex >= queue.length) break;
    const head = queue[headIndex] as Queued;
    const pick = policy.affinity
      ? bestPair(queue, headIndex, head.rank + band, free, pickable)
      : randomWorkerFor(head, free, policy.random);
    const coalesced = groups ? takeCoalesced(groups, pick.entry) : [];
    const run = coalesced.length > 0 ? (groups?.newest.get(pick.entry.job.id) as Queued) : pick.entry;
    // The picked job itself may be neither run nor folded (older than the limit): it stays queued.
    run.taken = true;
    free.splice(free.indexOf(pick.worker), 1);
    decisions.push({
      jobId: run.job.id,
      worker: pick.worker.name,
      coalesced: coalesced.map((c) => c.job.id),
      why: explain(pick, run, coalesced.length, headIndex, queue, policy, now),
    });
  }
  return decisions;
}

interface Pick {
  entry: Queued;
  worker: SchedulableWorker;
  fit: Fit | null;
}

function bestPair(
  queue: Queued[],
  from: number,
  maxRank: number,
  free: SchedulableWorker[],
  pickable: (entry: Queued) => boolean,
): Pick {
  let best: Pick | null = null;
  let considered = 0;
  for (let i = from; i < queue.length && considered < FIT_WINDOW; i++) {
    const entry = queue[i] as Queued;
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

/** Workers grouped by tag set: a pool has few distinct ones, so "can anyone run it" stays cheap. */
class TagCheck {
  private readonly tagSets: Readonly<Record<string, string>>[] = [];
  constructor(workers: SchedulableWorker[]) {
    const seen = new Set<string>();
    for (const worker of workers) {
      const key = JSON.stringify(Object.entries(worker.tags).sort());
      if (seen.has(key)) continue;
      seen.add(key);
      this.tagSets.push(worker.tags);
    }
  }
  anyCanRun(job: SchedulableJob): boolean {
    return this.tagSets.some((tags) => workerHasTags({ tags }, job.requiredTags));
  }
}

interface CoalesceGroups {
  /** Coalescible jobs per builder and branch, oldest first. */
  members: Map<string, Queued[]>;
  newest: Map<number, Queued>;
}

function groupKey(job: SchedulableJob): string {
  return `${job.repo}\u0000${job.builder}\u0000${job.branch}`;
}

function coalesceGroups(queue: Queued[]): CoalesceGroups {
  const members = new Map<string, Queued[]>();
  for (const entry of queue) {
    if (entry.job.coalesceLimit === null) continue;
    const key = groupKey(entry.job);
    const list = members.get(key);
    if (list) list.push(entry);
    else members.set(key, [entry]);
  }
  for (const list of members.values())
    list.sort((a, b) => a.job.pendingSince - b.job.pendingSince || a.job.id - b.job.id);
  return { members, newest: new Map() };
}

/**
 * When `picked` coalesces: the newest pending job of its builder and branch runs, and the
 * `limit − 1` pending jobs just older than it are folded into it (older ones beyond the limit
 * stay queued and fold together later, so every run covers a contiguous range of pushes).
 */
function takeCoalesced(groups: CoalesceGroups, picked: Queued): Queued[] {
  const limit = picked.job.coalesceLimit;
  if (limit === null || limit < 2) return [];
  const list = (groups.members.get(groupKey(picked.job)) ?? []).filter((e) => !e.taken);
  if (list.length < 2) return [];
  const newest = list.at(-1) as Queued;
  const folded = list.slice(Math.max(0, list.length - limit), -1);
  for (const entry of folded) entry.taken = true;
  groups.newest.set(picked.job.id, newest);
  return folded;
}

function explain(
  pick: Pick,
  run: Queued,
  coalescedCount: number,
  headIndex: number,
  queue: Queued[],
  policy: SchedulingPolicy,
  now: number,
): string {
  const reasons: string[] = [];
  if (pick.fit === null) reasons.push('a random waiting worker (worker affinity is off)');
  else {
    const fitReasons = describeFit(pick.entry.job, pick.worker, pick.fit, now);
    reasons.push(...(fitReasons.length > 0 ? fitReasons : ['no waiting worker had a warm cache for it']));
  }
  const ahead = queue.slice(0, queue.indexOf(pick.entry)).filter((e) => !e.taken && !e.job.coalesceTargetOnly).length;
  if (pick.entry === queue[headIndex] || ahead === 0)
    reasons.push(`first in its pool's queue (${policy.priorities ? 'priority, then age' : 'FIFO'})`);
  else
    reasons.push(
      `taken ahead of ${ahead} more urgent job(s) it fits better, within ${policy.fitBand} priority level(s)`,
    );
  if (coalescedCount > 0) {
    reasons.push(
      `runs the newest of ${coalescedCount + 1} pending ${run.job.builder} jobs on ${run.job.branch}; ${coalescedCount} coalesced into it`,
    );
  }
  return reasons.join('; ');
}
