import { everyRule, type SchedulingPolicy } from '@switchyard/coordinator/scheduler';
import type { PolicyName } from './policy-names.ts';
import type { Random } from './prng.ts';
import type { Scenario } from './scenario.ts';
import { MINUTE_MS } from './workload.ts';

/**
 * The farm a policy stands for: `dedicated` is Mozilla before pooling (every branch its own
 * machines, FIFO, any free machine), `pooled-fifo` shares the machines of a pool across branches
 * but keeps FIFO and random choice, `pooled-smart` is Switchyard's scheduler with every rule on.
 */
export function schedulingPolicy(name: PolicyName, scenario: Scenario, random: Random): SchedulingPolicy {
  if (name === 'pooled-smart') {
    return everyRule({ agingMs: scenario.agingMinutes * MINUTE_MS, fitBand: scenario.fitBand }, random);
  }
  return {
    priorities: false,
    agingMs: 0,
    fitBand: 0,
    affinity: false,
    coalescing: false,
    health: false,
    random,
  };
}
