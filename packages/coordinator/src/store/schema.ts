import type { Generated } from 'kysely';

/**
 * Row types of the coordinator's tables. Times are epoch milliseconds; JSON columns are text.
 * See migrations.ts for the indexes and the invariants they support.
 */
export interface PushesTable {
  id: Generated<number>;
  repo: string;
  repo_url: string;
  branch: string;
  revision: string;
  author: string;
  message: string;
  files: string;
  created_at: number;
}

export interface JobsTable {
  id: Generated<number>;
  push_id: number;
  builder: string;
  repo: string;
  branch: string;
  revision: string;
  author: string;
  pool: string;
  state: string;
  reason: string | null;
  /** The JobSpec (steps, env, checkout) frozen from the builder when the job was created. */
  spec: string;
  /** Worker tags the job requires, JSON object. */
  required_tags: string;
  depends_on: string;
  priority: number;
  attempt_count: number;
  max_attempts: number;
  retriggered_from: number | null;
  worker: string | null;
  created_at: number;
  pending_at: number | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface AttemptsTable {
  id: Generated<number>;
  job_id: number;
  number: number;
  worker: string;
  state: string;
  reason: string | null;
  message: string | null;
  started_at: number;
  finished_at: number | null;
  lease_expires_at: number | null;
}

export interface StepsTable {
  attempt_id: number;
  idx: number;
  name: string;
  state: string;
  exit_code: number | null;
  signal: string | null;
  started_at: number;
  finished_at: number | null;
  log_bytes: number;
  /** The next log batch number this step expects from the worker. */
  log_seq: number;
  log_compressed: number;
}

export interface WorkersTable {
  name: string;
  pool: string;
  tags: string;
  version: string | null;
  /** Which process of the worker last claimed: a random id each worker process picks at start. */
  instance: string | null;
  online: number;
  current_attempt: number | null;
  first_seen: number;
  last_seen: number;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  created_at: number;
  repo: string | null;
  branch: string | null;
  builder: string | null;
  job_id: number | null;
  push_id: number | null;
  data: string;
}

export interface Database {
  pushes: PushesTable;
  jobs: JobsTable;
  attempts: AttemptsTable;
  steps: StepsTable;
  workers: WorkersTable;
  events: EventsTable;
}
