import type { Builder } from './scenario.ts';
import { MINUTE_MS } from './workload.ts';

/**
 * How long one run takes (ms): `warm_minutes` when the worker's last run of this builder was on
 * the same branch (its object directory is still there), else `minutes`; divided by the worker's
 * speed; times a jitter factor in [1 − jitter, 1 + jitter] from the uniform draw `jitterDraw`.
 */
export function runDurationMs(
  builder: Pick<Builder, 'coldMinutes' | 'warmMinutes'>,
  warm: boolean,
  workerSpeed: number,
  jitter: number,
  jitterDraw: number,
): number {
  const minutes = warm ? builder.warmMinutes : builder.coldMinutes;
  return ((minutes * MINUTE_MS) / workerSpeed) * (1 + jitter * (2 * jitterDraw - 1));
}
