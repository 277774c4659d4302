/** The scheduler's public face: what the coordinator and the simulator share. */
export { type DependencyVerdict, dependencyVerdict } from './dependencies.ts';
export { MEDIAN_SAMPLE, median, nextSpeed } from './learned-speed.ts';
export { everyRule } from './live-policy.ts';
export type {
  Decision,
  SchedulableJob,
  SchedulableWorker,
  SchedulingPolicy,
  Snapshot,
  SpeedPreference,
  WarmCache,
} from './model.ts';
export { SPEED_PREFERENCES } from './model.ts';
export { effectivePriority, queueRank } from './queue-order.ts';
export { schedule } from './schedule.ts';
export { benchDurationMs } from './worker-health.ts';
