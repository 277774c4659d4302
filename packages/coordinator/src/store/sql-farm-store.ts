import type { Kysely } from 'kysely';
import { ArtifactRecords } from './artifact-records.ts';
import type { CommitRecorder, InsertNotice } from './commit-signal.ts';
import type { DialectName } from './dialect.ts';
import { DigestLockRecords } from './digest-lock-records.ts';
import { EventRecords } from './event-records.ts';
import { KeyRecords } from './key-records.ts';
import { LogRecords } from './log-records.ts';
import type { FarmStore, JobStore, PushStore, WorkerStore } from './port.ts';
import { Queries } from './queries.ts';
import { ReplicaRecords } from './replica-records.ts';
import type { Database } from './schema.ts';
import { SessionRecords } from './session-records.ts';
import { StatsQueries } from './stats-queries.ts';
import { Store } from './store.ts';
import { SubscriptionRecords } from './subscription-records.ts';
import { ToolRecords } from './tool-records.ts';

export interface SqlFarmStoreOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  /** On PostgreSQL, what a transaction's event insert notifies (commit-signal.ts). */
  insertNotice?: (grownLogs: readonly number[]) => InsertNotice;
  /** Told of each commit (the change feed's and log followers' wake-up). */
  commits: FarmStore['commits'] & CommitRecorder;
  logAppends: FarmStore['logAppends'];
  /** The current aging setting (it may change on reload). */
  agingMs(): number;
  clock?: () => number;
  /** Closes what the store opened beyond the database (a LISTEN connection). */
  onClose?: () => Promise<void>;
}

/**
 * The store port over SQL: one query layer that SQLite and PostgreSQL share, with their
 * differences named in dialect.ts. The write side of pushes, jobs and workers is `Store`
 * (one transaction per verb, with its events); their read side is `Queries`.
 */
export function createSqlFarmStore(options: SqlFarmStoreOptions): FarmStore {
  const { db } = options;
  const clock = options.clock ?? Date.now;
  // A clock given (a test's, a simulation's) is the farm's time on either database.
  const databaseTime = options.dialect === 'postgres' && options.clock === undefined;
  const core = new Store(db, options.commits, options.agingMs, clock, databaseTime, options.insertNotice ?? null);
  const queries = new Queries(db, clock);
  const pushes: PushStore = {
    create: (farm, request) => core.createPush(farm, request),
    list: (filter) => queries.listPushes(filter),
    get: (id) => queries.getPush(id),
  };
  const jobs: JobStore = {
    assignWork: (pool, waiting, policy, lease) => core.assignWork(pool, waiting, policy, lease),
    releaseUndelivered: (attemptId) => core.releaseUndelivered(attemptId),
    heartbeat: (attemptId, leaseMs, credential) => core.heartbeat(attemptId, leaseMs, credential ?? null),
    expireLeases: () => core.expireLeases(),
    renewLeasesAfterRestart: (leaseMs) => core.renewLeasesAfterRestart(leaseMs),
    rerankPending: (priorityLevelMs) => core.rerankPending(priorityLevelMs),
    stepStarted: (attemptId, index, request) => core.stepStarted(attemptId, index, request),
    stepFinished: (attemptId, index, request) => core.stepFinished(attemptId, index, request),
    attemptFinished: (attemptId, request) => core.attemptFinished(attemptId, request),
    report: (attemptId, entries, claimAfter) => core.report(attemptId, entries, claimAfter),
    cancel: (jobId) => core.cancelJob(jobId),
    retrigger: (farm, jobId) => core.retriggerJob(farm, jobId),
    list: (filter) => queries.listJobs(filter),
    get: (id, waitingWorkers, agingMs) => queries.getJob(id, waitingWorkers, agingMs),
    findAttempt: (jobId, number) => queries.findAttempt(jobId, number),
    stepsOf: (attemptId) => queries.stepsOf(attemptId),
    attemptState: (attemptId) => queries.attemptState(attemptId),
    jobState: (jobId) => queries.jobState(jobId),
    countsByState: () => queries.jobCountsByState(),
  };
  const workers: WorkerStore = {
    checkIn: (name, request, credential) => core.checkIn(name, request, credential ?? null),
    releaseCredential: (name) => core.releaseCredential(name),
    expireIdle: (silenceMs, stillWaiting) => core.expireIdleWorkers(silenceMs, stillWaiting),
    list: () => queries.listWorkers(),
  };
  return {
    dialect: options.dialect,
    pushes,
    jobs,
    workers,
    logs: new LogRecords(db, core, clock),
    artifacts: new ArtifactRecords(db, core, clock),
    tools: new ToolRecords(db, core),
    digestLocks: new DigestLockRecords(db, options.dialect),
    subscriptions: new SubscriptionRecords(db, core, clock),
    events: new EventRecords(db, core),
    stats: new StatsQueries(db, clock),
    sessions: new SessionRecords(db, clock),
    keys: new KeyRecords(db, clock),
    commits: options.commits,
    logAppends: options.logAppends,
    replicas: new ReplicaRecords(db, core),
    async close() {
      await options.onClose?.();
      await db.destroy();
    },
  };
}
