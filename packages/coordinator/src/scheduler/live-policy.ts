import type { Farm } from '../config/farm-config.ts';
import type { SchedulingPolicy } from './model.ts';

/** The live coordinator runs every rule; only aging and the fit band come from the config. */
export function schedulingPolicy(farm: Farm): SchedulingPolicy {
  return {
    priorities: true,
    agingMs: farm.scheduling.agingMs,
    fitBand: farm.scheduling.fitBand,
    affinity: true,
    coalescing: true,
    health: true,
    random: Math.random,
  };
}
