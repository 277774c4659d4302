import { type PolicyMetrics, policyMetrics } from './metrics.ts';
import { POLICY_NAMES, type PolicyName } from './policy-names.ts';
import type { Scenario } from './scenario.ts';
import { simulate } from './simulation.ts';

/** What `switchyard simulate --json` prints. */
export interface SimulationReport {
  policies: Partial<Record<PolicyName, PolicyMetrics>>;
}

/**
 * Runs the scenario once under each policy (every one sees the same pushes) and reports each;
 * `onPolicy` hears of each run as it starts, for progress.
 */
export function simulatePolicies(
  scenario: Scenario,
  policies: readonly PolicyName[] = POLICY_NAMES,
  onPolicy: (name: PolicyName) => void = () => {},
): SimulationReport {
  const branches = scenario.branches.map((b) => b.name);
  const report: SimulationReport = { policies: {} };
  for (const name of policies) {
    onPolicy(name);
    report.policies[name] = policyMetrics(simulate(scenario, name), branches);
  }
  return report;
}
