/** The scheduler's public face: what the coordinator and the simulator share. */
export { type AttemptEnding, type JobAfterAttempt, jobAfterAttempt } from './job-outcome.ts';
export { MEDIAN_SAMPLE, speedAfterSuccess } from './learned-speed.ts';
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
export { type PlannableBuilder, type PlannedJob, planJobs } from './plan-jobs.ts';
export { type JobPlan, type PushPlan, planPush } from './plan-push.ts';
export { planRetrigger, type RetriggerPlan } from './plan-retrigger.ts';
export { effectivePriority, queueRank } from './queue-order.ts';
export { schedule } from './schedule.ts';
export { type PushJob, type Settlement, settleDependents } from './settle-dependents.ts';
export { type EndedAttempt, type WorkerLesson, workerLesson } from './worker-lesson.ts';
