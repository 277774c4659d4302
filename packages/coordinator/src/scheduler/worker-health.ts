export const FIRST_BENCH_MS = 10_000;
export const LONGEST_BENCH_MS = 3_600_000;

/**
 * How long a worker sits out after its `streak`-th attempt in a row ended in exception: 10 s,
 * doubling, at most an hour — long enough that a broken machine stops eating the queue, short
 * enough that a transient fault costs little. A success or an ordinary failure ends the streak.
 */
export function benchDurationMs(streak: number): number {
  if (streak < 1) return 0;
  return Math.min(LONGEST_BENCH_MS, FIRST_BENCH_MS * 2 ** Math.min(streak - 1, 30));
}
