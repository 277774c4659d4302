/** The scheduling simulator: a scenario file in, per-policy metrics out. */
export { loadScenarioFile, parseScenario } from './load-scenario.ts';
export type { Metrics, PolicyMetrics, Summary } from './metrics.ts';
export { isPolicyName, POLICY_NAMES, type PolicyName } from './policy-names.ts';
export { type Random, seededRandom } from './prng.ts';
export { type SimulationReport, simulatePolicies } from './report.ts';
export type { Scenario } from './scenario.ts';
export { generatePushes, type Push } from './workload.ts';
