import type { SchedulableJob, SchedulableWorker, WarmCache } from './model.ts';

/** How well one idle worker suits one job; compared by `compareFit`. */
export interface Fit {
  /** 3: it last succeeded on this builder and branch; 2: on this builder; 1: on this repository. */
  warmth: 0 | 1 | 2 | 3;
  /** When that warm run finished; more recent is warmer. */
  warmAt: number;
  warmEntry: WarmCache | null;
  /** Positive when the worker's learned speed matches the builder's preference. */
  speed: number;
}

export function workerHasTags(worker: Pick<SchedulableWorker, 'tags'>, required: Readonly<Record<string, string>>) {
  for (const key in required) if (worker.tags[key] !== required[key]) return false;
  return true;
}

function warmthOf(job: SchedulableJob, entry: WarmCache): 0 | 1 | 2 | 3 {
  if (entry.repo !== job.repo) return 0;
  if (entry.builder !== job.builder) return 1;
  return entry.branch === job.branch ? 3 : 2;
}

export function fitOf(job: SchedulableJob, worker: SchedulableWorker): Fit {
  let warmth: Fit['warmth'] = 0;
  let warmAt = 0;
  let warmEntry: WarmCache | null = null;
  for (const entry of worker.warm) {
    const level = warmthOf(job, entry);
    if (level > warmth || (level === warmth && level > 0 && entry.at > warmAt)) {
      warmth = level;
      warmAt = entry.at;
      warmEntry = entry;
    }
  }
  const relative = worker.speed ?? 1;
  const speed = job.prefer === 'fast' ? 1 - relative : job.prefer === 'slow' ? relative - 1 : 0;
  return { warmth, warmAt, warmEntry, speed };
}

/**
 * Negative when `a` is the better fit: how warm its caches are first (this builder and branch,
 * then this builder, then this repository), then learned speed against the builder's
 * preference, then which of equally warm, equally fast workers ran it most recently. Speed comes
 * before recency because every worker that ran anything holds the repository: were recency
 * first, `prefer` would never decide anything in a one-repository farm.
 */
export function compareFit(a: Fit, b: Fit): number {
  if (a.warmth !== b.warmth) return b.warmth - a.warmth;
  if (a.speed !== b.speed) return b.speed - a.speed;
  return a.warmth > 0 ? b.warmAt - a.warmAt : 0;
}

export function describeFit(job: SchedulableJob, worker: SchedulableWorker, fit: Fit, now: number): string[] {
  const reasons: string[] = [];
  const entry = fit.warmEntry;
  if (entry) {
    const ago = formatAgo(now - entry.at);
    if (fit.warmth === 3) reasons.push(`warm: it last succeeded on ${job.builder} for ${job.branch} ${ago}`);
    else if (fit.warmth === 2) reasons.push(`warm: it ran ${job.builder} (for ${entry.branch}) ${ago}`);
    else reasons.push(`warm: it holds ${job.repo} (ran ${entry.builder} ${ago})`);
  }
  if (worker.speed !== null && job.prefer !== 'any') {
    reasons.push(
      `${job.prefer === 'fast' ? 'prefers fast' : 'prefers slow'} machines; this one takes ${worker.speed.toFixed(2)}× the median`,
    );
  }
  return reasons;
}

function formatAgo(ms: number): string {
  const minutes = Math.round(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  return `${Math.round(minutes / 60)} h ago`;
}
