import type { RunRecord } from './simulation.ts';
import { MINUTE_MS } from './workload.ts';

export interface Summary {
  mean: number | null;
  median: number | null;
  p90: number | null;
}

/** One row of the report: all of a policy's run, or one branch of it. */
export interface Metrics {
  /** Jobs created (one per builder per push), whatever became of them. */
  jobs: number;
  coalesced: number;
  /**
   * Worker time spent on these jobs' attempts during the scenario's duration, as a share of all
   * the farm's worker time then (the drain after it is not counted): a policy's branches add up
   * to its overall figure.
   */
  utilisation: number;
  /** Per attempt: from when its job became pending (again, for a retry) to the attempt's start. */
  wait_minutes: Summary;
  /** Per push: from its arrival to the moment the last of its jobs was final. */
  e2e_minutes: Summary;
}

export interface PolicyMetrics {
  overall: Metrics;
  branches: Record<string, Metrics>;
}

/** The q-quantile (0 ≤ q ≤ 1) of sorted values, interpolating between neighbours. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}

export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) return { mean: null, median: null, p90: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { mean: round(mean, 2), median: round(quantile(sorted, 0.5), 2), p90: round(quantile(sorted, 0.9), 2) };
}

function round(value: number | null, digits: number): number | null {
  if (value === null) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function metricsOf(record: RunRecord, branch: string | null): Metrics {
  const mine = <T extends { branch: string }>(items: readonly T[]) =>
    branch === null ? items : items.filter((item) => item.branch === branch);
  const jobs = mine(record.jobs);
  const attempts = mine(record.attempts);
  const busyMs = attempts.reduce(
    (sum, a) => sum + Math.max(0, Math.min(a.end, record.durationMs) - Math.min(a.start, record.durationMs)),
    0,
  );
  const capacityMs = record.workerCount * record.durationMs;
  return {
    jobs: jobs.length,
    coalesced: jobs.filter((job) => job.state === 'coalesced').length,
    utilisation: capacityMs > 0 ? (round(busyMs / capacityMs, 4) as number) : 0,
    wait_minutes: summarise(attempts.map((a) => (a.start - a.pendingAt) / MINUTE_MS)),
    e2e_minutes: summarise(mine(record.pushes).map((p) => (p.doneAt - p.at) / MINUTE_MS)),
  };
}

/** The report of one run: overall and for each branch (in the scenario's order). */
export function policyMetrics(record: RunRecord, branches: readonly string[]): PolicyMetrics {
  return {
    overall: metricsOf(record, null),
    branches: Object.fromEntries(branches.map((branch) => [branch, metricsOf(record, branch)])),
  };
}
