/** The scheduler's public face: what the coordinator and the simulator share. */
export { type DependencyVerdict, dependencyVerdict } from './dependencies.ts';
export {
  type AttemptEnding,
  coalescedReason,
  type JobAfterAttempt,
  jobAfterAttempt,
  RETRYABLE_REASONS,
} from './job-outcome.ts';
export { type FrozenJobSpec, frozenJobSpec, type PushedRevision } from './job-spec.ts';
export { MEDIAN_SAMPLE, median, nextSpeed, speedAfterSuccess } from './learned-speed.ts';
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
export {
  type InitialJobState,
  type PlannableBuilder,
  type PlannedJob,
  type PlannedPush,
  planJobs,
  queueTerms,
} from './plan-jobs.ts';
export { type JobPlan, type PushPlan, type PushRequest, planPush } from './plan-push.ts';
export { planRetrigger, type RetriggerFacts, type RetriggerPlan } from './plan-retrigger.ts';
export { effectivePriority, queueRank } from './queue-order.ts';
export { schedule } from './schedule.ts';
export { type PushJob, type Settlement, settleDependents } from './settle-dependents.ts';
export { benchDurationMs } from './worker-health.ts';
export { type EndedAttempt, NOT_THE_MACHINES_FAULT, type WorkerLesson, workerLesson } from './worker-lesson.ts';
