import { everyRule } from './live-policy.ts';
import type { SchedulableJob, SchedulableWorker, SchedulingPolicy } from './model.ts';

/** Builders of jobs, workers and policies for scheduler tests and benchmarks. */
export const MINUTE = 60_000;

/** Every rule, with a whole-level fit band and a random source that always says 0. */
export const SMART_POLICY: SchedulingPolicy = everyRule({ agingMs: 10 * MINUTE, fitBand: 1 }, () => 0);

let nextId = 1;

export function job(overrides: Partial<SchedulableJob> = {}): SchedulableJob {
  const id = overrides.id ?? nextId++;
  return {
    id,
    builder: 'build',
    repo: 'gecko',
    branch: 'main',
    pool: 'linux',
    priority: 4,
    pendingSince: id,
    requiredTags: {},
    prefer: 'any',
    coalesceLimit: null,
    ...overrides,
  };
}

export function worker(name: string, overrides: Partial<SchedulableWorker> = {}): SchedulableWorker {
  return { name, pool: 'linux', tags: {}, warm: [], speed: null, benchedUntil: null, idleSince: 0, ...overrides };
}
