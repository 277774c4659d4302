import type { Attempt, AttemptTimings, Job, JobState, Push, Step, Worker } from '@switchyard/protocol';
import type { Selectable } from 'kysely';
import type { WarmCache } from '../scheduler/model.ts';
import type { AttemptsTable, JobsTable, PushesTable, StepsTable, WorkersTable } from './schema.ts';

export type JobRow = Selectable<JobsTable>;
export type PushRow = Selectable<PushesTable>;
export type AttemptRow = Selectable<AttemptsTable>;
export type StepRow = Selectable<StepsTable>;
export type WorkerRow = Selectable<WorkersTable>;

export const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const span = (start: number | null, end: number | null): number | null =>
  start === null || end === null ? null : Math.max(0, end - start);

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    pushId: row.push_id,
    repo: row.repo,
    branch: row.branch,
    revision: row.revision,
    author: row.author,
    builder: row.builder,
    pool: row.pool,
    state: row.state as JobState,
    reason: row.reason,
    attemptCount: row.attempt_count,
    maxAttempts: row.max_attempts,
    dependsOn: JSON.parse(row.depends_on) as number[],
    retriggeredFrom: row.retriggered_from,
    priority: row.priority,
    exact: row.exact === 1,
    coalescedInto: row.coalesced_into,
    worker: row.worker,
    createdAt: iso(row.created_at),
    pendingAt: isoOrNull(row.pending_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    durationMs: span(row.started_at, row.finished_at),
  };
}

export function toPush(row: PushRow, jobs: readonly JobRow[]): Push {
  return {
    id: row.id,
    repo: row.repo,
    branch: row.branch,
    revision: row.revision,
    author: row.author,
    message: row.message,
    files: JSON.parse(row.files) as string[],
    createdAt: iso(row.created_at),
    jobs: jobs.map((j) => ({
      id: j.id,
      builder: j.builder,
      state: j.state as JobState,
      attemptCount: j.attempt_count,
    })),
  };
}

export function toStep(row: StepRow): Step {
  return {
    index: row.idx,
    name: row.name,
    state: row.state as Step['state'],
    exitCode: row.exit_code,
    signal: row.signal,
    startedAt: iso(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    durationMs: span(row.started_at, row.finished_at),
    logBytes: row.log_bytes,
  };
}

export function toAttempt(row: AttemptRow, steps: readonly StepRow[]): Attempt {
  return {
    id: row.id,
    number: row.number,
    worker: row.worker,
    state: row.state as Attempt['state'],
    reason: row.reason,
    message: row.message,
    startedAt: iso(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    durationMs: span(row.started_at, row.finished_at),
    leaseExpiresAt: isoOrNull(row.lease_expires_at),
    timings: row.timings === null ? null : (JSON.parse(row.timings) as AttemptTimings),
    steps: steps.map(toStep),
  };
}

/** `now`: the store's clock, which says whether the worker's bench is over. */
export function toWorker(row: WorkerRow, currentJob: number | null, now: number): Worker {
  return {
    name: row.name,
    pool: row.pool,
    tags: JSON.parse(row.tags) as Record<string, string>,
    state: row.online === 0 ? 'offline' : row.current_attempt === null ? 'idle' : 'busy',
    currentJob,
    currentAttempt: row.current_attempt,
    version: row.version,
    firstSeen: iso(row.first_seen),
    lastSeen: iso(row.last_seen),
    warm: parseWarm(row.warm).map((w) => ({ ...w, at: iso(w.at) })),
    speed: row.speed,
    exceptionStreak: row.exception_streak,
    benchedUntil: row.benched_until !== null && row.benched_until > now ? iso(row.benched_until) : null,
  };
}

/** The warm list as stored: times in ms. */
export function parseWarm(json: string): WarmCache[] {
  return JSON.parse(json) as WarmCache[];
}
