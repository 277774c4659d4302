import type { SchedulableJob, SchedulableWorker, SpeedPreference } from '../scheduler/model.ts';
import { type JobRow, parseWarm, type WorkerRow } from './mappers.ts';

/**
 * A pending job's row as the scheduler sees it. Its queue time is the one its rank was made
 * from, which a retried job keeps from before its lost attempt.
 */
export function toSchedulableJob(row: JobRow, priorityLevelMs: number): SchedulableJob {
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
