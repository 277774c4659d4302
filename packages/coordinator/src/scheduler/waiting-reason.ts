import { workerHasTags } from './worker-fit.ts';

export interface PoolWorkerState {
  name: string;
  tags: Readonly<Record<string, string>>;
  state: 'idle' | 'busy' | 'benched';
  benchedUntil: number | null;
}

export interface WaitingJob {
  pool: string;
  requiredTags: Readonly<Record<string, string>>;
}

/**
 * Why a pending job has no worker yet, in words a person can act on: nobody in the pool,
 * nobody with the tags, everyone able to run it busy or benched, or simply behind other jobs.
 */
export function explainWaiting(job: WaitingJob, onlineWorkers: readonly PoolWorkerState[], jobsAhead: number): string {
  const behind = jobsAhead > 0 ? `; ${jobsAhead} job(s) ahead of it in the queue` : '';
  if (onlineWorkers.length === 0) return `no worker of pool ${job.pool} is online${behind}`;
  const able = onlineWorkers.filter((w) => workerHasTags(w, job.requiredTags));
  if (able.length === 0) {
    const tags = Object.entries(job.requiredTags)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return `none of the ${onlineWorkers.length} online worker(s) of pool ${job.pool} has tags ${tags}`;
  }
  const busy = able.filter((w) => w.state === 'busy').length;
  const benched = able.filter((w) => w.state === 'benched');
  const idle = able.length - busy - benched.length;
  if (idle > 0) {
    return jobsAhead > 0
      ? `behind ${jobsAhead} job(s) in pool ${job.pool}'s queue`
      : `about to be matched: ${idle} worker(s) of pool ${job.pool} are waiting`;
  }
  const parts = [`all ${able.length} worker(s) of pool ${job.pool} that can run it are busy`];
  if (benched.length > 0) {
    const until = Math.min(...benched.map((w) => w.benchedUntil ?? 0));
    parts[0] = `${busy} worker(s) of pool ${job.pool} that can run it are busy and ${benched.length} benched after exceptions (the first returns at ${new Date(until).toISOString()})`;
  }
  return parts.join('') + behind;
}
