import type { SchedulableJob, SchedulableWorker, SpeedPreference } from '../scheduler/model.ts';
import { type JobRow, parseWarm, type WorkerRow } from './mappers.ts';

/** The columns the scheduler reads: the queue query fetches only these (not the job spec). */
export const SCHEDULABLE_COLUMNS = [
  'id',
  'builder',
  'repo',
  'branch',
  'pool',
  'priority',
  'queue_rank',
  'required_tags',
  'prefer',
  'coalesce_limit',
] as const;

export type SchedulableRow = Pick<JobRow, (typeof SCHEDULABLE_COLUMNS)[number]>;

/**
 * A pending job's row as the scheduler sees it. Its queue time is the one its rank was made
 * from, which a retried job keeps from before its lost attempt.
 */
export function toSchedulableJob(row: SchedulableRow, priorityLevelMs: number): SchedulableJob {
  return {
    id: row.id,
    builder: row.builder,
    repo: row.repo,
    branch: row.branch,
    pool: row.pool,
    priority: row.priority,
    pendingSince: row.queue_rank - row.priority * priorityLevelMs,
    requiredTags: JSON.parse(row.required_tags) as Record<string, string>,
    prefer: row.prefer as SpeedPreference,
    coalesceLimit: row.coalesce_limit,
  };
}

export function toSchedulableWorker(row: WorkerRow, idleSince: number): SchedulableWorker {
  return {
    name: row.name,
    pool: row.pool,
    tags: JSON.parse(row.tags) as Record<string, string>,
    warm: parseWarm(row.warm),
    speed: row.speed,
    benchedUntil: row.benched_until,
    idleSince,
  };
}
