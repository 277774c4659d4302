import type { BuilderStats } from '@switchyard/protocol';
import { distribution, groupBy, trend, type Window, windowView } from './distribution.ts';

export interface FinishedJob {
  builder: string;
  state: string;
  startedAt: number | null;
  finishedAt: number;
}

/** The outcomes that say how a builder does; cancelled, skipped and coalesced jobs say nothing. */
const OUTCOMES = new Set(['success', 'failure', 'exception']);

/**
 * Per builder, for jobs finished in the window: durations (start → finish) of the runs that
 * ended on their own (success or failure), their trend, and the failure and exception rates
 * among success, failure and exception. Slowest (highest median) first.
 */
export function builderStats(jobs: readonly FinishedJob[], window: Window): BuilderStats {
  const finished = jobs.filter(
    (job) => OUTCOMES.has(job.state) && job.finishedAt >= window.from && job.finishedAt < window.to,
  );
  const builders = [...groupBy(finished, (job) => job.builder).entries()].map(([builder, runs]) => {
    const timed = runs.filter((job) => job.state !== 'exception' && job.startedAt !== null);
    const durations = timed.map((job) => ({ at: job.finishedAt, value: job.finishedAt - (job.startedAt as number) }));
    const counts = {
      success: runs.filter((job) => job.state === 'success').length,
      failure: runs.filter((job) => job.state === 'failure').length,
      exception: runs.filter((job) => job.state === 'exception').length,
    };
    return {
      builder,
      runs: runs.length,
      duration: distribution(durations.map((d) => d.value)),
      trend: trend(durations, window),
      counts,
      failureRate: ratio(counts.failure, runs.length),
      exceptionRate: ratio(counts.exception, runs.length),
    };
  });
  builders.sort(
    (a, b) => (b.duration.medianMs ?? -1) - (a.duration.medianMs ?? -1) || a.builder.localeCompare(b.builder),
  );
  return { window: windowView(window), builders };
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}
