/** Weight of the newest run in a worker's speed: about the last five runs count. */
export const SPEED_SMOOTHING = 0.3;
/** How many recent successful runs of a builder make its median. */
export const MEDIAN_SAMPLE = 50;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * A worker's speed after one more successful run: its duration relative to the builder's median,
 * folded into an exponentially weighted average. One freak run (a cold cache, a noisy
 * neighbour) moves it a little, a new machine class moves it within a few runs.
 */
export function nextSpeed(previous: number | null, durationMs: number, builderMedianMs: number | null): number | null {
  if (builderMedianMs === null || builderMedianMs <= 0 || durationMs <= 0) return previous;
  const ratio = Math.min(10, Math.max(0.1, durationMs / builderMedianMs));
  return previous === null ? ratio : previous + SPEED_SMOOTHING * (ratio - previous);
}

/**
 * A worker's speed after a successful run of `durationMs`, measured against the builder's median
 * over this run and the builder's `earlierDurations` (successful runs, newest first).
 */
export function speedAfterSuccess(
  previous: number | null,
  durationMs: number,
  earlierDurations: readonly number[],
): number | null {
  return nextSpeed(previous, durationMs, median([durationMs, ...earlierDurations.slice(0, MEDIAN_SAMPLE - 1)]));
}
