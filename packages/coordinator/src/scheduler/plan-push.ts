import type { Builder, Farm } from '../config/farm-config.ts';
import { type FrozenJobSpec, frozenJobSpec, type PushedRevision } from './job-spec.ts';
import type { SpeedPreference } from './model.ts';
import { type InitialJobState, type PlannedJob, planJobs } from './plan-jobs.ts';

/** Everything the store writes for one new job but the ids and times, which it assigns. */
export interface JobPlan {
  builder: string;
  pool: string;
  state: InitialJobState;
  reason: string | null;
  /** Builders whose jobs this one depends on; the store resolves them to job ids. */
  dependsOn: string[];
  spec: FrozenJobSpec;
  requiredTags: Record<string, string>;
  priority: number;
  prefer: SpeedPreference;
  coalesceLimit: number | null;
  maxAttempts: number;
  exact: boolean;
}

export interface PushRequest {
  repo: string;
  branch: string;
  revision: string;
  /** Someone asked for this exact revision: never coalesce its jobs. */
  exact: boolean;
}

export type PushPlan =
  | { kind: 'unknown-repo'; knownRepos: string[] }
  /** The jobs in the order to create them: each after the jobs it depends on. */
  | { kind: 'jobs'; repo: { name: string; url: string }; jobs: JobPlan[] };

/** The jobs a push creates: one per builder of its repository that runs on its branch. */
export function planPush(farm: Farm, push: PushRequest): PushPlan {
  const repo = farm.repos.get(push.repo);
  if (!repo) return { kind: 'unknown-repo', knownRepos: [...farm.repos.keys()] };
  const running = farm.builders.filter((b) => b.repo.name === repo.name && b.matchesBranch(push.branch));
  const planned = planJobs(running, {
    branch: push.branch,
    branchPriority: farm.branchPriority(push.branch),
    exact: push.exact,
  });
  const revision = { repo: repo.name, repoUrl: repo.url, branch: push.branch, revision: push.revision };
  return {
    kind: 'jobs',
    repo: { name: repo.name, url: repo.url },
    jobs: planned.map((job) => jobPlan(farm, job, revision, push.exact)),
  };
}

/** A planned job of a live builder, with what the store keeps of its builder. */
export function jobPlan(farm: Farm, job: PlannedJob<Builder>, revision: PushedRevision, exact: boolean): JobPlan {
  const { builder } = job;
  return {
    builder: builder.name,
    pool: builder.pool,
    state: job.state,
    reason: job.reason,
    dependsOn: job.dependsOn,
    spec: frozenJobSpec(farm, builder, revision),
    requiredTags: builder.config.tags ?? {},
    priority: job.priority,
    prefer: builder.prefer,
    coalesceLimit: job.coalesceLimit,
    maxAttempts: job.maxAttempts,
    exact,
  };
}
