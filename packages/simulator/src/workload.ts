import { exponential, seededRandom } from './prng.ts';
import type { BusyHours, Scenario } from './scenario.ts';

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

export interface Push {
  /** 1, 2, … in arrival order. */
  id: number;
  branch: string;
  /** Virtual ms since the start of the scenario, which starts at midnight. */
  at: number;
}

/**
 * How much busier than usual the farm is at virtual time `ms`: the factor of the first busy
 * window holding that hour of the day, else 1. A window with `from` > `to` wraps midnight.
 */
export function busyFactor(busyHours: readonly BusyHours[], ms: number): number {
  const hour = (ms / HOUR_MS) % 24;
  for (const window of busyHours) {
    const inside =
      window.from < window.to ? hour >= window.from && hour < window.to : hour >= window.from || hour < window.to;
    if (inside) return window.factor;
  }
  return 1;
}

/**
 * Every push of the scenario: per branch a Poisson process of `pushes_per_hour`, scaled by the
 * busy hours (drawn at the highest rate and thinned, which is exact for a rate that varies).
 */
export function generatePushes(scenario: Pick<Scenario, 'seed' | 'durationHours' | 'busyHours' | 'branches'>): Push[] {
  const end = scenario.durationHours * HOUR_MS;
  const peak = Math.max(1, ...scenario.busyHours.map((w) => w.factor));
  const arrivals: Omit<Push, 'id'>[] = [];
  for (const branch of scenario.branches) {
    if (branch.pushesPerHour <= 0) continue;
    const random = seededRandom(scenario.seed, `pushes:${branch.name}`);
    const meanGap = HOUR_MS / (branch.pushesPerHour * peak);
    for (let at = exponential(random, meanGap); at < end; at += exponential(random, meanGap)) {
      if (random() * peak < busyFactor(scenario.busyHours, at)) arrivals.push({ branch: branch.name, at });
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  return arrivals.map((arrival, i) => ({ id: i + 1, ...arrival }));
}
