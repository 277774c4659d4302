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
  /** Place in its pool's queue while pending: priority × aging + pending_at (see scheduler/queue-order.ts). */
  queue_rank: Generated<number>;
  prefer: Generated<string>;
  /** null: never coalesced. */
  coalesce_limit: number | null;
  /** For a `coalesced` job: the job that ran in its place. */
  coalesced_into: number | null;
  /** Pushed with `exact: true`: someone wants this revision itself. */
  exact: Generated<number>;
  /** Why its worker was chosen, from the scheduler. */
  claim_reason: string | null;
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
  /** JSON AttemptTimings, as the worker reported them. */
  timings: string | null;
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
  /** 1 once the log is final and kept whole elsewhere: in the log archive, or (a farm from before it) a gzip file on disk. */
  log_compressed: number;
  /** JSON of the compacted log in the log archive (ArchivedLog); null while its chunks are in `log_chunks`. */
  log_archive: string | null;
  /** Until when a coordinator compacting this log holds it (store clock, ms); others leave it alone. */
  log_compacting_until: number | null;
}

/** A step's log batch while the step runs: its frames, where they start in the step's log. */
export interface LogChunksTable {
  attempt_id: number;
  idx: number;
  seq: number;
  offset: number;
  data: Buffer;
}

export interface WorkersTable {
  name: string;
  pool: string;
  tags: string;
  version: string | null;
  /** Which process of the worker last claimed: a random id each worker process picks at start. */
  instance: string | null;
  /** The name of the farm token the worker first claimed with; only that one may act for it. Null without auth. */
  credential: Generated<string | null>;
  online: number;
  current_attempt: number | null;
  first_seen: number;
  last_seen: number;
  /** JSON WarmCache[]: what the worker reported holding warm at its last claim. */
  warm: Generated<string>;
  /** Learned duration relative to builder medians; null until it finished something. */
  speed: number | null;
  /** Attempts in a row that ended in exception. */
  exception_streak: Generated<number>;
  benched_until: number | null;
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

/** A distinct content, stored once under its sha256 (see artifacts/blob-store.ts). */
export interface BlobsTable {
  sha256: string;
  size: number;
  /** The content type of the upload that first stored it; the blob URL serves it. */
  content_type: string;
  created_at: number;
}

/** A job's named file: (job, name) → blob. */
export interface ArtifactsTable {
  id: Generated<number>;
  job_id: number;
  /** The attempt number that uploaded it; a later attempt's upload replaces it. */
  attempt: number;
  name: string;
  sha256: string;
  size: number;
  content_type: string;
  created_at: number;
  expires_at: number;
}

/** A tooltool file: content addressed by sha512, its bytes in the blob of its sha256. Tools never expire. */
export interface ToolsTable {
  sha512: string;
  sha256: string;
  size: number;
  /** 'public' (anyone may download it) or 'internal' (the farm's read rule applies); fixed at the first upload. */
  visibility: string;
  /** When the content was first stored. */
  uploaded_at: number;
}

/** A name a tool was uploaded under; one content may have several, and one name several contents. */
export interface ToolNamesTable {
  sha512: string;
  filename: string;
  /** The first upload under this name. */
  uploaded_at: number;
}

/** A webhook: where matching events are POSTed, and how far its queue has read the event log. */
export interface SubscriptionsTable {
  id: Generated<number>;
  /** Config webhooks are kept by name across restarts and reloads; API ones have none. */
  name: string | null;
  source: 'api' | 'config';
  url: string;
  secret: string;
  /** JSON EventFilterConfig. */
  filter: string;
  /** Every event up to this id has a delivery row or did not match. */
  cursor: number;
  created_at: number;
}

/** One event to deliver to one subscription, in id order per subscription. */
export interface DeliveriesTable {
  id: Generated<number>;
  subscription_id: number;
  event_id: number;
  state: 'pending' | 'delivered' | 'failed';
  next_attempt_at: number | null;
  first_attempt_at: number | null;
  created_at: number;
  finished_at: number | null;
  redelivery_of: number | null;
}

/** The delivery log: every POST made, with what came back. */
export interface DeliveryAttemptsTable {
  delivery_id: number;
  number: number;
  attempted_at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/** How far a publisher (the broker exchange) has read the event log; it resumes after it. */
export interface OutboxCursorsTable {
  name: string;
  last_event_id: number;
}

/** Keys the coordinators make for themselves and share through the database (the attempt credentials' key). */
export interface FarmKeysTable {
  name: string;
  key: string;
  created_at: number;
}

/**
 * A signed-in browser. Its cookie holds a random id, of which only the sha256 is kept: a copy of
 * the database signs no one in. The token's scopes are read from the config in force at each request.
 */
export interface SessionsTable {
  id_hash: string;
  /** The name of the token signed in with, when it signed in. */
  token_name: string;
  /** The sha256 of that token. */
  token_hash: string;
  /** Repeated by the page in the CSRF header on every change it asks for. */
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

/** A coordinator process: it heartbeats its row while it runs (replicas/replica-registry.ts). */
export interface ReplicasTable {
  /** Random at each start. */
  id: string;
  hostname: string;
  pid: number;
  /** Where it listens, as it was told to (`server.url`), or null. */
  url: string | null;
  version: string;
  started_at: number;
  last_seen: number;
  /** Set when it stopped cleanly; a replica that died keeps null and simply stops being seen. */
  stopped_at: number | null;
}

/**
 * A loop that runs on one replica at a time (loops/singleton-lease.ts). `term` grows by one at
 * every takeover and never goes back, so a write fenced by (holder, term) fails once another
 * replica took over, even if the old holder still believes it holds the lease.
 */
export interface SingletonsTable {
  name: string;
  holder: string;
  term: number;
  expires_at: number;
  acquired_at: number;
}

/** Named values the replicas share, such as the aging setting the queue was last ranked with. */
export interface FarmSettingsTable {
  name: string;
  value: string;
}

export interface Database {
  pushes: PushesTable;
  jobs: JobsTable;
  attempts: AttemptsTable;
  steps: StepsTable;
  log_chunks: LogChunksTable;
  workers: WorkersTable;
  events: EventsTable;
  blobs: BlobsTable;
  artifacts: ArtifactsTable;
  tools: ToolsTable;
  tool_names: ToolNamesTable;
  subscriptions: SubscriptionsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  outbox_cursors: OutboxCursorsTable;
  sessions: SessionsTable;
  farm_keys: FarmKeysTable;
  replicas: ReplicasTable;
  singletons: SingletonsTable;
  farm_settings: FarmSettingsTable;
}
