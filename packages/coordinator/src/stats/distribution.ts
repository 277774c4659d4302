import type { Distribution, StatsWindow, Trend } from '@switchyard/protocol';

/** A measurement at a moment: a duration (ms) observed at `at` (epoch ms). */
export interface Sample {
  at: number;
  value: number;
}

/** The window the answers are about, in epoch ms. */
export interface Window {
  from: number;
  to: number;
}

const DAY = 86_400_000;

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const count = sorted.length;
  return {
    count,
    medianMs: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    meanMs: count === 0 ? null : Math.round(sorted.reduce((sum, v) => sum + v, 0) / count),
    maxMs: count === 0 ? null : (sorted[count - 1] as number),
  };
}

/**
 * How a measurement moves over the window: buckets of a day (of an hour for windows under two
 * days), and the median of the second half of the window against that of the first half.
 */
export function trend(samples: readonly Sample[], window: Window): Trend {
  const span = window.to - window.from;
  const size = span < 2 * DAY ? DAY / 24 : DAY;
  const buckets: Trend['buckets'] = [];
  for (let start = window.from; start < window.to; start += size) {
    const values = samples.filter((s) => s.at >= start && s.at < start + size).map((s) => s.value);
    const { count, medianMs, p90Ms } = distribution(values);
    buckets.push({ start: new Date(start).toISOString(), count, medianMs, p90Ms });
  }
  const middle = window.from + span / 2;
  const first = distribution(samples.filter((s) => s.at < middle).map((s) => s.value)).medianMs;
  const second = distribution(samples.filter((s) => s.at >= middle).map((s) => s.value)).medianMs;
  const changePercent =
    first === null || second === null || first === 0 ? null : Math.round(((second - first) / first) * 1000) / 10;
  return { changePercent, buckets };
}

export function windowView(window: Window): StatsWindow {
  return { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() };
}

/** Groups items by a key, keeping first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
