import { DEFAULT_SCHEDULING, type Farm, type SchedulingSettings } from '../config/farm-config.ts';
import type { SchedulingPolicy } from './model.ts';

/** Every rule on; only aging and the fit band are settings. */
export function everyRule(settings: SchedulingSettings = DEFAULT_SCHEDULING, random = Math.random): SchedulingPolicy {
  return {
    priorities: true,
    agingMs: settings.agingMs,
    fitBand: settings.fitBand,
    affinity: true,
    coalescing: true,
    health: true,
    random,
  };
}

/** The live coordinator runs every rule, with the config's aging and fit band. */
export function schedulingPolicy(farm: Farm): SchedulingPolicy {
  return everyRule(farm.scheduling);
}
