import type { WaitTimes } from '@switchyard/protocol';
import { distribution, groupBy, trend, type Window, windowView } from './distribution.ts';

/** A job's wait: from pending to started (the latest attempt's, after a retry). */
export interface JobWait {
  pool: string;
  pendingAt: number;
  startedAt: number;
}

/** Wait time (pending → started) per pool, for jobs started in the window, with its trend. */
export function waitTimes(jobs: readonly JobWait[], window: Window): WaitTimes {
  const started = jobs.filter((job) => job.startedAt >= window.from && job.startedAt < window.to);
  const pools = groupBy(started, (job) => job.pool);
  return {
    window: windowView(window),
    pools: [...pools.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([pool, waits]) => ({
        pool,
        wait: distribution(waits.map((job) => Math.max(0, job.startedAt - job.pendingAt))),
        trend: trend(
          waits.map((job) => ({ at: job.startedAt, value: Math.max(0, job.startedAt - job.pendingAt) })),
          window,
        ),
      })),
  };
}
