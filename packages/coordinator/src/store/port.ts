/**
 * The store port: every domain verb the coordinator has, per aggregate, and the invariants each
 * keeps. SQLite and PostgreSQL implement it with one SQL layer (store/sql-farm-store.ts); nothing
 * outside store/ sees a query builder, a transaction or a row of another shape than these.
 *
 * Rules every verb keeps:
 * - a write is one transaction, and the events it causes are appended in that transaction (the
 *   outbox): nothing is announced that did not commit, nothing that committed goes unannounced;
 * - refusals are `StoreError`s (store/errors.ts) of a closed set of kinds; `api/` maps them to HTTP;
 * - times are epoch milliseconds from the store's clock, which tests inject.
 */
import type {
  Artifact,
  ArtifactStats,
  Assignment,
  AttemptFinishedRequest,
  BuilderStats,
  ClaimRequest,
  CreatePushRequest,
  CreateSubscriptionRequest,
  Delivery,
  HeartbeatResponse,
  Job,
  JobDetail,
  JobInput,
  LastGreen,
  Push,
  PushResult,
  PushTimes,
  StatsQuery,
  StepFinishedRequest,
  StepStartedRequest,
  Subscription,
  ToolRecord,
  ToolVisibility,
  WaitTimes,
  Worker,
  WorkerUtilisation,
} from '@switchyard/protocol';
import type { Selectable } from 'kysely';
import type { ConfiguredWebhook } from '../config/events-config.ts';
import type { Farm } from '../config/farm-config.ts';
import type { SchedulingPolicy } from '../scheduler/model.ts';
import type {
  AttemptsTable,
  DeliveriesTable,
  EventsTable,
  JobsTable,
  StepsTable,
  SubscriptionsTable,
} from './schema.ts';

/** An assignment as the store makes it; the claim adds the attempt's credentials (credentials/). */
export type JobAssignment = Omit<Assignment, 'attemptToken' | 'signing'>;
export type JobRecord = Selectable<JobsTable>;
export type AttemptRecord = Selectable<AttemptsTable>;
export type StepRecord = Selectable<StepsTable>;
export type SubscriptionRecord = Selectable<SubscriptionsTable>;
export type DeliveryRecord = Selectable<DeliveriesTable>;
export type EventRecord = Selectable<EventsTable>;

/** A worker whose claim the coordinator is holding, waiting for work. */
export interface WaitingWorker {
  name: string;
  /** Since when it has had nothing to do (ms): among equals, the longest idle goes first. */
  idleSince: number;
}

/** A worker's claim for its next job, sent with the reports that end its attempt. */
export interface ClaimAfterReport {
  workerName: string;
  request: ClaimRequest;
  /** The farm token's name it claims with (null without auth). */
  credential: string | null;
}

/** A check-in done: until when the worker is benched (null: it is not). */
export interface CheckedIn {
  benchedUntil: number | null;
}

export interface LeaseTerms {
  leaseMs: number;
  heartbeatSeconds: number;
}

/** One log batch of a step, as the store keeps it: a chunk of the step's log. */
export interface LogBatch {
  /** The batch number: applied only as the step's next batch; a repeat changes nothing. */
  seq: number;
  /** Where its bytes start in the step's log: the length stored before it. */
  offset: number;
  /** The frames to store (already cut to the step's log limit; may be empty). */
  data: Buffer;
}

/** One report of a batch, as the store applies it. */
export type ReportRecord =
  | { kind: 'step-started'; index: number; request: StepStartedRequest }
  | ({ kind: 'log'; step: number } & LogBatch)
  | { kind: 'step-finished'; index: number; request: StepFinishedRequest }
  | { kind: 'attempt-finished'; request: AttemptFinishedRequest };

export interface PushFilter {
  repo?: string | undefined;
  branch?: string | undefined;
  author?: string | undefined;
  revision?: string | undefined;
  result?: PushResult | undefined;
}

/** Pushes: created once with all their jobs, never changed, read newest first. */
export interface PushStore {
  /**
   * Records a push and the jobs its repo's builders plan for its branch, in one transaction, with
   * `push.created` and each job's first event. Refuses an unknown repo (`invalid-input`).
   */
  create(farm: Farm, request: CreatePushRequest): Promise<Push>;
  /**
   * Newest first, `limit` of those older than `before` that match every filter given: repo and
   * branch exactly, author containing `author` ignoring case, revision starting with `revision`,
   * and the result the push shows (`pushResultOf` of its jobs, as the dashboard reads it).
   */
  list(filter: PushFilter & { limit: number; before?: number }): Promise<Push[]>;
  /** `not-found` when there is no such push. */
  get(id: number): Promise<Push>;
}

/**
 * Jobs and their attempts. Invariants: a job has at most one running attempt, and a running job
 * has exactly one; a final job state never changes again, and a job becomes final exactly once,
 * with one `job.finished`; an attempt's lease is extended only while it runs; once it ended, its
 * worker's reports are refused with `lease-lost`, except the reports of a cancelled attempt.
 */
export interface JobStore {
  /**
   * Runs the scheduler over one pool's waiting workers and pending jobs and commits its decisions
   * in one transaction: attempts started (each with a lease), older jobs coalesced. Returns each
   * matched worker's assignment.
   */
  assignWork(
    pool: string,
    waiting: readonly WaitingWorker[],
    policy: SchedulingPolicy,
    lease: LeaseTerms,
  ): Promise<Map<string, JobAssignment>>;
  /** An assignment the claim could not hand over: undone, the job queued again, its attempt not used up. */
  releaseUndelivered(attemptId: number): Promise<void>;
  /**
   * Renews a running attempt's lease; says `cancel` for a cancelled one; `lease-lost` for one that
   * ended; `forbidden` when `credential` is not the one its worker is bound to.
   */
  heartbeat(attemptId: number, leaseMs: number, credential?: string | null): Promise<HeartbeatResponse>;
  /** Ends every running attempt whose lease expired (its worker is gone); returns how many. */
  expireLeases(): Promise<number>;
  /**
   * After a coordinator restart, or writes refused for a full disk, running attempts get a full
   * lease: the coordinator was away or unable, not their workers.
   */
  renewLeasesAfterRestart(leaseMs: number): Promise<void>;
  /**
   * When the queue was last ranked with another aging setting (it is stored): pending jobs take
   * the places `priorityLevelMs` implies, and it is stored. One replica at a time decides; says
   * whether it re-ranked.
   */
  rerankPending(priorityLevelMs: number): Promise<boolean>;
  /** Idempotent per (attempt, index); `conflict` when the index holds another step's name. */
  stepStarted(attemptId: number, index: number, request: StepStartedRequest): Promise<void>;
  /** Idempotent; `conflict` for a step never started. */
  stepFinished(attemptId: number, index: number, request: StepFinishedRequest): Promise<void>;
  /** Ends the attempt and moves its job on (final, or pending again for a retry); a repeat is accepted. */
  attemptFinished(attemptId: number, request: AttemptFinishedRequest): Promise<void>;
  /**
   * Several reports of one attempt in one transaction, in their order, each kept to the rules of
   * its own verb (stepStarted, stepFinished, attemptFinished; a log batch those of
   * `logs.recordAppend`: a repeat changes nothing, a later batch is `log-sequence-gap`, and it
   * must start where the stored log ends, else `conflict`): all are applied or none is. The
   * whole may be repeated, also once it has ended the attempt (a repeat of that end is
   * accepted, as `attemptFinished` accepts one). Says whether the attempt is cancelled.
   *
   * With `claimAfter`, the claim the worker sends with these reports: when they end its attempt
   * and it would check in as an idle, online worker of its credential, the check-in is written
   * with the attempt's end (`checkedIn`), and the caller need not check it in again
   * (`WorkerStore.checkIn`); otherwise `checkedIn` is absent.
   */
  report(
    attemptId: number,
    entries: readonly ReportRecord[],
    claimAfter?: ClaimAfterReport,
  ): Promise<{ cancel: boolean; checkedIn?: CheckedIn }>;
  /** `conflict` when the job has already ended; a running attempt is cancelled with it. */
  cancel(jobId: number): Promise<Job>;
  /** A new job of the same push and builder; `conflict` while the job runs or when a dependency can't let it. */
  retrigger(farm: Farm, jobId: number): Promise<Job>;
  list(filter: {
    states?: string[];
    repo?: string;
    branch?: string;
    builder?: string;
    pool?: string;
    limit: number;
    before?: number;
  }): Promise<Job[]>;
  /** With attempts, steps and why it stands where it does in the queue; `not-found`. */
  get(id: number, waitingWorkers?: ReadonlySet<string>, agingMs?: number): Promise<JobDetail>;
  /** The attempt to read logs from: the given number, or the latest (null before the first). */
  findAttempt(
    jobId: number,
    number?: number,
  ): Promise<{ job: { id: number; state: string }; attempt: AttemptRecord | null }>;
  stepsOf(attemptId: number): Promise<StepRecord[]>;
  attemptState(attemptId: number): Promise<{ state: string; reason: string | null } | undefined>;
  jobState(jobId: number): Promise<{ state: string; attempt_count: number } | undefined>;
  countsByState(): Promise<Array<{ state: string; pool: string; count: number }>>;
}

/** Workers: one row per name, the process that last claimed, its health and learned speed. */
export interface WorkerStore {
  /**
   * A worker asks for work: settles what it held before (a restart of the same worker), records
   * its tags and warm caches, says until when it is benched. `name-in-use` while another process
   * of that name holds a live lease. The first credential (farm token name) a worker claims with
   * binds it: `forbidden` for any other, so one machine's token can't act as another machine.
   */
  checkIn(
    workerName: string,
    request: ClaimRequest,
    credential?: string | null,
  ): Promise<{ benchedUntil: number | null }>;
  /** Forgets which credential a worker is bound to, so that the next one it claims with binds it (token renamed). */
  releaseCredential(workerName: string): Promise<void>;
  /** Workers that neither claim nor run anything for `silenceMs` are offline. */
  expireIdle(silenceMs: number, stillWaiting: ReadonlySet<string>): Promise<void>;
  list(): Promise<Worker[]>;
}

export interface StepLogState {
  bytes: number;
  seq: number;
  attemptState: string;
  jobId: number;
  compressed: boolean;
}

/** A stored log batch of a running step (or of one not yet compacted). */
export interface LogChunk {
  seq: number;
  offset: number;
  data: Buffer;
}

/** A log taken for compaction: its step, its length then, and where it is, as LogReader reads it. */
export type ClaimedLog = Pick<StepRecord, 'idx' | 'log_bytes' | 'log_compressed' | 'log_archive'>;

/**
 * A compacted log in the log archive: one gzip file made of independent members, each holding
 * `memberBytes` of the log (the last one the rest), so a reader can start at any member.
 */
export interface ArchivedLog {
  sha256: string;
  /** The gzip file's size. */
  size: number;
  memberBytes: number;
  /** Where each member starts in the gzip file. */
  members: number[];
  /**
   * The log's line index (logs/step-index.ts), a blob of the same archive; absent for a log
   * compacted by a coordinator from before the indexes, which readers index themselves.
   */
  index?: { sha256: string; size: number };
}

/** A log gzipped on disk by a coordinator from before the log archive. */
export interface LegacyLog {
  attemptId: number;
  index: number;
  bytes: number;
}

/**
 * Each step's log: while the step runs, its batches as chunks in the database, applied in
 * sequence order (complete, in order, never doubled, whichever coordinator receives them); once
 * the step is over, compacted into the log archive, which the step's row then names.
 */
export interface LogStore {
  stepLogState(attemptId: number, index: number): Promise<StepLogState | null>;
  /**
   * Stores one batch as the step's next chunk, in one transaction, under the rules of a log
   * entry of `JobStore.report`: a repeat changes nothing, a later batch is `log-sequence-gap`, one
   * not starting where the stored log ends (or after compaction) `conflict`, a step never started
   * `conflict`, an attempt that ended `lease-lost`. Says the log's length and whether the attempt is cancelled.
   */
  append(attemptId: number, index: number, batch: LogBatch): Promise<{ bytes: number; cancel: boolean }>;
  /** The chunks holding the step's bytes from `from` on, in order, at most `limit` of them. */
  chunks(attemptId: number, index: number, from: number, limit: number): Promise<LogChunk[]>;
  /**
   * Takes the attempt's logs not yet compacted (only those of the steps `indexes`, when given)
   * for compaction, for `holdMs`, in one statement: the logs taken, in step order. A log
   * compacted already, or held by another coordinator until its hold runs out, is not taken; of
   * coordinators racing, each log goes to one of them.
   */
  claimCompactions(attemptId: number, holdMs: number, indexes?: readonly number[]): Promise<ClaimedLog[]>;
  /**
   * The log of `bytes` bytes (its length when claimed) is in the archive (null: an empty log,
   * nothing archived): named on the step and its chunks deleted, atomically. False, changing
   * nothing, when the log is compacted already or its length is no longer `bytes` (a batch came
   * after the claim: the log is compacted again once the hold runs out).
   */
  recordCompacted(attemptId: number, index: number, bytes: number, archive: ArchivedLog | null): Promise<boolean>;
  /**
   * Steps whose log a coordinator from before the archive gzipped on its own disk, and which are
   * not yet imported into the archive: `limit` of them after (attempt, step) `after`, in that order.
   */
  legacyLogs(after: { attemptId: number; index: number } | null, limit: number): Promise<LegacyLog[]>;
  /** Names the archive a legacy log was imported into; false, changing nothing, when it has one already. */
  recordImported(attemptId: number, index: number, archive: ArchivedLog): Promise<boolean>;
  /**
   * Attempts that are over (ended before `endedBefore`, when given) with logs not yet compacted:
   * a shutdown or a crash interrupted their compaction.
   */
  attemptsWithRawLogs(endedBefore?: number): Promise<number[]>;
}

/** The job and attempt an upload belongs to, once its headers have been checked. */
export interface UploadTarget {
  job: JobRecord;
  attemptNumber: number;
  name: string;
}

export interface NewArtifact {
  sha256: string;
  size: number;
  contentType: string;
  expiresAt: number;
}

export interface BlobRecord {
  sha256: string;
  size: number;
  content_type: string;
  created_at: number;
}

/** Artifacts, (job, name) → blob, and the blobs stored once by sha256. */
export interface ArtifactStore {
  /** Refused unless one of the job's attempts runs now (and is the one named): `not-found`, `lease-lost`, `conflict`. */
  uploadTarget(jobId: number, name: string, attemptId: number | null): Promise<UploadTarget>;
  blob(sha256: string): Promise<BlobRecord | undefined>;
  /** Records (job, name) → blob, replacing an earlier attempt's, with `artifact.created`; `lease-lost` if the attempt ended meanwhile. */
  record(target: UploadTarget, blob: NewArtifact): Promise<{ artifact: Artifact; deduplicated: boolean }>;
  list(jobId: number): Promise<Artifact[]>;
  find(jobId: number, name: string): Promise<Artifact>;
  inputs(jobId: number): Promise<JobInput[]>;
  stats(): Promise<ArtifactStats>;
  deleteExpired(): Promise<number>;
  unreferencedBlobs(): Promise<string[]>;
  /** Forgets a blob if still nothing references it; its size, or null when it was kept. */
  forgetBlob(sha256: string): Promise<number | null>;
}

/** What a tool upload stores: the content, by both digests, and the name it came under. */
export interface NewTool {
  sha512: string;
  sha256: string;
  size: number;
  visibility: ToolVisibility;
  filename: string | null;
}

/**
 * The critical sections of one blob digest: recording an artifact or tool that names a stored
 * blob (or committing the bytes and recording them), and the collector forgetting and deleting
 * it. Without it one replica's collector could delete a blob another replica has just found
 * present and is recording, leaving a record that names bytes that are gone.
 */
export interface DigestLockStore {
  /**
   * Runs `work` while no other caller, in this process or another coordinator of the database,
   * is inside a section of the same digest; sections of other digests run meanwhile. Hold it
   * around decisions and their effects only, never while a body streams in.
   */
  withDigestLock<T>(sha256: string, work: () => Promise<T>): Promise<T>;
}

/** Tooltool files by sha512, their names, and their visibility fixed at the first upload. */
export interface ToolStore {
  find(sha512: string): Promise<ToolRecord | null>;
  visibilityOf(sha512: string): Promise<string | null>;
  blobIsRecorded(sha256: string): Promise<boolean>;
  list(filename?: string): Promise<ToolRecord[]>;
  /** `conflict` when the content is stored with another visibility. */
  record(tool: NewTool): Promise<{ tool: ToolRecord; created: boolean }>;
  addUpload(sha512: string, visibility: ToolVisibility, filename: string | null): Promise<ToolRecord | null>;
  /** `not-found` when there is no such tool. */
  delete(sha512: string): Promise<void>;
}

/**
 * Webhook subscriptions and their delivery queues. A subscription's cursor only moves forward:
 * every event up to it has a delivery or did not match. Changes made through the API are
 * announced as `subscription.changed`, so every process's dispatcher learns of them.
 */
export interface SubscriptionStore {
  create(request: CreateSubscriptionRequest): Promise<SubscriptionRecord>;
  syncConfigured(webhooks: readonly ConfiguredWebhook[]): Promise<void>;
  all(): Promise<SubscriptionRecord[]>;
  find(id: number): Promise<SubscriptionRecord | undefined>;
  require(id: number): Promise<SubscriptionRecord>;
  /** `conflict` for a subscription the config made. */
  remove(id: number): Promise<void>;
  view(row: SubscriptionRecord): Promise<Subscription>;
  /**
   * Queues deliveries for these events and moves the cursor forward to `cursor`. With a fence,
   * only while it still holds its singleton, checked in the same transaction; else `singleton-lost`.
   */
  enqueue(subscriptionId: number, eventIds: readonly number[], cursor: number, fence?: SingletonFence): Promise<void>;
  nextPending(subscriptionId: number): Promise<DeliveryRecord | undefined>;
  attemptCount(deliveryId: number): Promise<number>;
  /** With a fence, as `enqueue`. */
  recordAttempt(
    delivery: DeliveryRecord,
    attempt: { at: number; status: number | null; error: string | null; durationMs: number },
    outcome: { state: 'delivered' | 'failed' } | { state: 'pending'; retryAt: number },
    fence?: SingletonFence,
  ): Promise<void>;
  redeliver(subscriptionId: number, deliveryId: number): Promise<DeliveryRecord>;
  deliveries(subscriptionId: number, options: { limit: number; before?: number }): Promise<Delivery[]>;
  delivery(subscriptionId: number, deliveryId: number): Promise<Delivery>;
}

/** The committed event log: ids ascend in commit order, so a reader after any id misses nothing. */
export interface EventStore {
  /** Committed events after `afterId` in id order, at most `limit`. */
  readAfter(afterId: number, limit: number): Promise<EventRecord[]>;
  get(id: number): Promise<EventRecord | undefined>;
  /** The highest committed id (0 for an empty log). */
  lastId(): Promise<number>;
  recordConfigReload(builders: number, repos: number): Promise<void>;
  /** How far a named publisher has read; set to `start` the first time it asks. */
  publisherCursor(name: string, start: number): Promise<number>;
  /**
   * Moves the cursor forward to `lastEventId` (never back). With a fence, only while it still
   * holds its singleton, checked in the same transaction; else `singleton-lost`.
   */
  advancePublisherCursor(name: string, lastEventId: number, fence?: SingletonFence): Promise<void>;
}

/** A coordinator process as it registers itself. */
export interface NewReplica {
  id: string;
  hostname: string;
  pid: number;
  url: string | null;
  version: string;
}

export interface ReplicaRecord extends NewReplica {
  startedAt: number;
  lastSeen: number;
  /** When it stopped cleanly; null while it runs, and for one that died. */
  stoppedAt: number | null;
}

export interface SingletonRecord {
  name: string;
  holder: string;
  term: number;
  expiresAt: number;
  acquiredAt: number;
}

/** What a singleton loop's writes carry, checked in their transaction (the store error `singleton-lost`). */
export interface SingletonFence {
  name: string;
  holder: string;
  term: number;
}

export type SingletonClaim =
  | { held: true; term: number; expiresAt: number }
  | { held: false; holder: string; term: number; expiresAt: number };

/**
 * The coordinator processes sharing the database, the singleton leases among them, and settings
 * they share. Times are the store's: the database's clock on PostgreSQL.
 */
export interface ReplicaStore {
  /** Registers the replica (its first call) or says it is alive: last seen now. */
  heartbeat(replica: NewReplica): Promise<void>;
  /** The replica stopped cleanly. */
  stopped(id: string): Promise<void>;
  /** Every replica and singleton, with the store's time they are to be judged by. */
  list(): Promise<{ now: number; replicas: ReplicaRecord[]; singletons: SingletonRecord[] }>;
  /** Forgets replicas last seen before `before`; returns how many. */
  forgetBefore(before: number): Promise<number>;
  /**
   * Takes or renews a singleton's lease for `leaseMs` (replicas/singleton-decision.ts): renewed
   * only for the holder under `term` before it expired; an expired or new one is taken under the
   * next term. Says who holds it now.
   */
  claimSingleton(name: string, holder: string, term: number | null, leaseMs: number): Promise<SingletonClaim>;
  /** Lets the lease go at once (it expires now), for another replica to take; the term stays spent. */
  releaseSingleton(fence: SingletonFence): Promise<void>;
  setting(name: string): Promise<string | null>;
  putSetting(name: string, value: string): Promise<void>;
}

/** The answers people ask of the history, computed by stats/'s pure modules. */
export interface StatsStore {
  pushTimes(query: StatsQuery): Promise<PushTimes>;
  waitTimes(query: StatsQuery): Promise<WaitTimes>;
  builderStats(query: StatsQuery): Promise<BuilderStats>;
  workerUtilisation(query: StatsQuery): Promise<WorkerUtilisation>;
  lastGreen(repo: string, branch: string, searchPushes?: number): Promise<LastGreen>;
}

/** A browser session as it is signed in: the sha256 of the id its cookie holds, and whose token it is. */
export interface NewSession {
  idHash: string;
  tokenName: string;
  tokenHash: string;
  csrfToken: string;
}

export interface SessionRecord extends NewSession {
  createdAt: number;
  expiresAt: number;
}

/**
 * Signed-in browsers, shared by every coordinator of the farm and kept across restarts. A
 * session is found until it ends (sign-out) or expires; expired ones are only found by
 * `deleteExpired`, which forgets them.
 */
export interface SessionStore {
  /** Records a session that lasts `lifetimeMs` from now. */
  start(session: NewSession, lifetimeMs: number): Promise<SessionRecord>;
  /** The session with this id hash, or null when there is none or it has expired. */
  find(idHash: string): Promise<SessionRecord | null>;
  /** Sign-out: the session is forgotten (nothing happens for one that isn't there). */
  end(idHash: string): Promise<void>;
  /** Forgets every session expired by now; returns how many. */
  deleteExpired(): Promise<number>;
}

/** Wakes a reader of the event log when events may have committed (in this process or another). */
export type CommitListener = (lastEventId: number | null, events?: readonly EventRecord[]) => void;

export interface CommitSignal {
  /**
   * `listener` runs after commits, with the id of the last event committed when it is known (null:
   * read whatever is there), and the commit's event rows in id order when known (a commit of this
   * process; another's whose notification carried them): a reader whose cursor is just before
   * them has them without reading. Returns the function that stops it.
   */
  onCommit(listener: CommitListener): () => void;
  /**
   * Whether this process committed the event (among its recent commits): work that one
   * coordinator should start, such as compacting a finished log, starts where its event was
   * committed, and the others' sweeps take it over if that coordinator dies first.
   */
  committedHere(eventId: number): boolean;
  /**
   * Resolves once every commit this process had sent when it was called has been told to the
   * listeners. The database shows a commit's rows to other sessions before the committing verb
   * has its COMMIT's answer: a reader that waits for this after reading knows which of the rows
   * it read `committedHere`.
   */
  settled(): Promise<void>;
}

/**
 * Wakes the followers of a log when its attempt's chunks grew, in this process or another: a log
 * append commits no event, so the change feed does not carry it. A wake-up lost costs a follower
 * its poll.
 */
export interface LogSignal {
  /** `listener` runs with the attempt's id after its log chunks were stored; returns the function that stops it. */
  onLogAppended(listener: (attemptId: number) => void): () => void;
}

/** Keys the coordinators make once and share through the database. */
export interface KeyStore {
  /** The key named `name`, made by `generate` if none is stored yet; every replica gets the same one. */
  obtain(name: string, generate: () => string): Promise<string>;
}

export interface FarmStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly pushes: PushStore;
  readonly jobs: JobStore;
  readonly workers: WorkerStore;
  readonly logs: LogStore;
  readonly artifacts: ArtifactStore;
  readonly tools: ToolStore;
  readonly digestLocks: DigestLockStore;
  readonly subscriptions: SubscriptionStore;
  readonly events: EventStore;
  readonly stats: StatsStore;
  readonly sessions: SessionStore;
  readonly keys: KeyStore;
  readonly commits: CommitSignal;
  readonly logAppends: LogSignal;
  readonly replicas: ReplicaStore;
  close(): Promise<void>;
}
