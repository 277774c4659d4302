import {
  type AttemptFinishedRequest,
  type ClaimRequest,
  type CreatePushRequest,
  type HeartbeatResponse,
  isFinalJobState,
  type JobSpec,
  type JobState,
  type Push,
  type StepFinishedRequest,
  type StepStartedRequest,
} from '@switchyard/protocol';
import { type Kysely, type QueryCreator, sql } from 'kysely';
import type { Farm } from '../config/farm-config.ts';
import type { SchedulableJob, SchedulingPolicy } from '../scheduler/model.ts';
import { planPush } from '../scheduler/plan-push.ts';
import { planRetrigger } from '../scheduler/plan-retrigger.ts';
import { priorityLevelMs } from '../scheduler/queue-order.ts';
import { schedule } from '../scheduler/schedule.ts';
import { beginAttempt } from './attempt-start.ts';
import type { CommitRecorder, InsertNotice } from './commit-signal.ts';
import { DATABASE_NOW_MS, readDatabaseTime, settleNow } from './database-time.ts';
import { dialectOf } from './dialect.ts';
import { conflict, invalidInput, leaseLost, notFound, StoreError } from './errors.ts';
import { iso, type JobRow, toJob, toPush, toWorker, type WorkerRow } from './mappers.ts';
import { PENDING, RUNNING } from './partial-indexes.ts';
import { beginWithNextStatement } from './pipelined-transaction.ts';
import type { CheckedIn, ClaimAfterReport, JobAssignment, ReportRecord, WaitingWorker } from './port.ts';
import { announceCompletedPushes } from './push-completion.ts';
import { insertPushWithJobs } from './push-insert.ts';
import { SCHEDULABLE_COLUMNS, type SchedulableRow, toSchedulableJob, toSchedulableWorker } from './schedulable.ts';
import type { Database } from './schema.ts';
import {
  announceJob,
  attemptRow,
  closeAttempt,
  coalesceJob,
  endAttempt,
  finishJob,
  insertJob,
  jobDims,
  jobRow,
  requeueUndelivered,
  requireAttempt,
  requireJob,
  requireLiveLease,
} from './transitions.ts';
import { checkCredential, workerValues } from './worker-check-in.ts';
import { recordAttemptFinished, recordReport, recordStepFinished, recordStepStarted } from './worker-reports.ts';
import { WriteContext } from './write-context.ts';

/**
 * How many pending jobs of a pool one matching round reads, in queue order: enough for the fit
 * band of every waiting worker, few enough that a deep queue costs little per claim. Rounds page
 * on when jobs nobody waiting can run fill a page.
 */
function queuePageSize(waitingWorkers: number): number {
  return Math.min(500, 64 + 16 * waitingWorkers);
}

/**
 * A page of the pool's queue, after the job `after` stands at. Read without locks, on both
 * databases: a round starts only the jobs the scheduler chose, each still pending and unlocked at
 * that moment (attempt-start.ts), and schedules again without a job another coordinator took.
 * Locking the whole page (FOR UPDATE SKIP LOCKED) cost PostgreSQL a row lock, with its WAL record,
 * for each of up to 500 rows a round, to start one job or a few.
 */
function pendingPage(
  db: QueryCreator<Database>,
  pool: string,
  after: { rank: number; id: number } | null,
  pageSize: number,
) {
  let query = db.selectFrom('jobs').select(SCHEDULABLE_COLUMNS).where('state', '=', PENDING).where('pool', '=', pool);
  if (after) {
    const { rank, id } = after;
    query = query.where((eb) =>
      eb.or([eb('queue_rank', '>', rank), eb.and([eb('queue_rank', '=', rank), eb('id', '>', id)])]),
    );
  }
  return query.orderBy('queue_rank').orderBy('id').limit(pageSize);
}

/**
 * A matching round's snapshot on PostgreSQL in one statement: the waiting workers of the pool
 * that hold no attempt, the database's time, and the first page of the pool's queue.
 */
async function workersAndFirstPageOnPostgres(
  ctx: WriteContext,
  pool: string,
  names: readonly string[],
  pageSize: number,
): Promise<{ workers: (WorkerRow & { database_now?: number })[]; page: SchedulableRow[]; databaseNow: number }> {
  const found = await ctx.trx
    .with('page', (db) => pendingPage(db, pool, null, pageSize))
    .selectNoFrom([
      DATABASE_NOW_MS.as('database_now'),
      sql<WorkerRow[]>`(select coalesce(json_agg(workers), '[]'::json) from workers
        where name = any(${[...names]}::text[]) and pool = ${pool} and current_attempt is null)`.as('workers'),
      sql<SchedulableRow[]>`(select coalesce(json_agg(page order by queue_rank, id), '[]'::json) from page)`.as('page'),
    ])
    .executeTakeFirstOrThrow();
  return { workers: found.workers, page: found.page, databaseNow: found.database_now };
}

/**
 * How many expired attempts (or silent workers) one reaper transaction ends: small enough that a
 * farm-wide outage's backlog is ended in short transactions that other writes interleave with.
 */
const REAP_BATCH = 100;

/** The setting that says what one priority level was worth when the queue was last ranked. */
const PRIORITY_LEVEL_SETTING = 'queue.priority-level-ms';
/** Any fixed key shared by the replicas of a farm: the lock under which one of them re-ranks. */
const QUEUE_RANK_LOCK = 0x5377_7972;

/**
 * The coordinator's state machine over the database. Every public verb is one transaction that
 * also appends the events it causes.
 *
 * Invariants:
 * - a job has at most one running attempt, and a running job has exactly one;
 * - a final job state never changes again; a job becomes final exactly once, with one
 *   `job.finished` event;
 * - an attempt's lease is only extended while it is running; once it ended, its worker's
 *   reports are refused with `lease-lost` (409), except the report of a cancelled attempt.
 */
export class Store {
  constructor(
    readonly db: Kysely<Database>,
    /** Told of every commit, and after it of what it appended (the commit signal). */
    private readonly commits: CommitRecorder,
    /** The current aging setting (it may change on reload). */
    private readonly agingMs: () => number,
    private readonly clock: () => number = Date.now,
    /**
     * Whether a transaction's time is the database's clock (PostgreSQL, where replicas on
     * several machines share leases) rather than `clock` (SQLite: one machine; or a clock a
     * test or simulation moves).
     */
    private readonly databaseTime = false,
    /** On PostgreSQL, what a transaction's event insert notifies (commit-signal.ts). */
    private readonly insertNotice: ((grownLogs: readonly number[]) => InsertNotice) | null = null,
  ) {}

  /**
   * One write transaction with its events (the outbox), announced after the commit. Public so
   * that the stores of other tables (artifacts) write through the same path.
   *
   * On the database's time, the transaction reads it first, one round trip, unless
   * `timeFromFirstStatement`: then the verb's first statement reads it along with its rows
   * (requireAttempt; the claim's worker rows), saving that round trip on the hot paths. A verb
   * that uses no time at all passes it too, and reads none; `ctx.now` would throw if it did.
   */
  async write<T>(work: (ctx: WriteContext) => Promise<T>, timeFromFirstStatement = false): Promise<T> {
    let ctx: WriteContext | undefined;
    // From just before the commit until it has been told: its rows may be read meanwhile.
    let told = () => {};
    const run = async (trx: Kysely<Database>) => {
      ctx = new WriteContext(
        trx,
        this.databaseTime ? null : this.clock(),
        priorityLevelMs(this.agingMs()),
        this.insertNotice,
      );
      if (this.databaseTime && !timeFromFirstStatement) ctx.setNow(await readDatabaseTime(trx));
      const result = await work(ctx);
      await announceCompletedPushes(ctx);
      return { ctx, result };
    };
    try {
      const result =
        dialectOf(this.db) === 'postgres'
          ? await this.db.connection().execute(async (connection) => {
              // Begun and ended here rather than by Kysely, so that BEGIN goes out with the first
              // statement and COMMIT with the event insert (pipelined-transaction.ts).
              await beginWithNextStatement(connection);
              try {
                const done = await run(connection);
                told = this.commits.committing();
                await done.ctx.commitOnPostgres();
                return done.result;
              } catch (error) {
                // Also after a failed commit, which may have ended the transaction: a ROLLBACK then
                // only warns. A connection too broken to roll back is dropped by the pool, not given
                // out again, so the error to tell is the one that failed the write.
                await sql`rollback`.execute(connection).catch(() => undefined);
                throw error;
              }
            })
          : await this.db.transaction().execute(async (trx) => {
              const done = await run(trx);
              told = this.commits.committing();
              await done.ctx.flushEvents();
              return done.result;
            });
      const write = (ctx as WriteContext).committedWrite();
      if (write) this.commits.committed(write);
      return result;
    } finally {
      told();
    }
  }

  // ---- pushes ------------------------------------------------------------------------------

  async createPush(farm: Farm, request: CreatePushRequest): Promise<Push> {
    const plan = planPush(farm, {
      repo: request.repo,
      branch: request.branch,
      revision: request.revision,
      exact: request.exact === true,
    });
    if (plan.kind === 'unknown-repo') {
      throw invalidInput(`unknown repo "${request.repo}"`, { field: 'repo', known: plan.knownRepos });
    }
    return this.write(async (ctx) => {
      const { push: pushRow, jobs: created } = await insertPushWithJobs(
        ctx,
        {
          repo: plan.repo.name,
          repo_url: plan.repo.url,
          branch: request.branch,
          revision: request.revision,
          author: request.author ?? '',
          message: request.message ?? '',
          files: JSON.stringify(request.files ?? []),
        },
        plan.jobs,
      );
      const push = toPush(pushRow, created);
      await ctx.emit('push.created', { push }, { repo: push.repo, branch: push.branch, pushId: push.id });
      for (const row of created) await announceJob(ctx, row);
      return push;
    }, true);
  }

  // ---- claims and leases -------------------------------------------------------------------

  /**
   * A worker asks for work. Settles what it held before (a restart of the same worker, or a
   * clash of names), records its tags and warm caches, and says until when it is benched.
   */
  async checkIn(
    workerName: string,
    request: ClaimRequest,
    credential: string | null,
  ): Promise<{ benchedUntil: number | null }> {
    const idle = await this.checkInIdle(workerName, request, credential);
    if (idle) return idle;
    return this.write(async (ctx) => {
      const found = await ctx.trx
        .selectFrom('workers')
        .selectAll()
        .$if(ctx.awaitingNow, (q) => q.select(DATABASE_NOW_MS.as('database_now')))
        .where('name', '=', workerName)
        .executeTakeFirst();
      await settleNow(ctx, found?.database_now);
      let before: WorkerRow | undefined;
      if (found) {
        const { database_now: _, ...row } = found;
        before = row;
      }
      if (before) checkCredential(before, credential);
      const previous = before?.current_attempt ? await attemptRow(ctx, before.current_attempt) : undefined;
      if (previous?.state === 'running') {
        const sameProcess = request.instance !== undefined && before?.instance === request.instance;
        const otherProcess = request.instance !== undefined && before?.instance != null && !sameProcess;
        if (otherProcess && (previous.lease_expires_at ?? 0) > ctx.now) {
          // Either a second worker with this name, or this worker restarted while its step may
          // still be running: wait for the lease to run out rather than risk two runs at once.
          throw new StoreError(
            'name-in-use',
            `worker name ${workerName} holds attempt ${previous.id} of job ${previous.job_id}, leased by another worker process; ` +
              'give each worker its own --name, or wait for that lease to expire',
            { attempt: previous.id, leaseExpiresAt: iso(previous.lease_expires_at as number) },
          );
        }
        const started = await ctx.trx
          .selectFrom('steps')
          .select('idx')
          .where('attempt_id', '=', previous.id)
          .executeTakeFirst();
        if (sameProcess && !started) {
          // This process asks for work only when idle: it never received that assignment.
          await requeueUndelivered(ctx, previous);
        } else {
          await endAttempt(ctx, previous, 'exception', 'worker-restarted', {
            message: `worker ${workerName} asked for new work while this attempt was running, so it restarted`,
          });
        }
      }
      const row = await this.touchWorker(ctx, workerName, request, before, credential);
      return { benchedUntil: row.benched_until !== null && row.benched_until > ctx.now ? row.benched_until : null };
    }, true);
  }

  /**
   * The usual check-in, a worker known, online and holding no attempt asking again, is one
   * statement outside any transaction: it has nothing to settle and no event to announce (every
   * statement is a round trip on PostgreSQL). Undefined when the worker is new, offline, holds an
   * attempt or is bound to another credential: the full check-in settles those.
   */
  private async checkInIdle(
    workerName: string,
    request: ClaimRequest,
    credential: string | null,
  ): Promise<{ benchedUntil: number | null } | undefined> {
    const row = await this.db
      .updateTable('workers')
      .set(workerValues(request, credential, this.databaseTime ? DATABASE_NOW_MS : this.clock()))
      .where('name', '=', workerName)
      .where('online', '=', 1)
      .where('current_attempt', 'is', null)
      .$if(credential !== null, (q) =>
        q.where((eb) => eb.or([eb('credential', 'is', null), eb('credential', '=', credential)])),
      )
      .returning(['benched_until', 'last_seen'])
      .executeTakeFirst();
    if (!row) return undefined;
    const now = Number(row.last_seen);
    return { benchedUntil: row.benched_until !== null && row.benched_until > now ? row.benched_until : null };
  }

  /**
   * Pairs the waiting workers of one pool with its pending jobs — the scheduler's decisions,
   * committed in one transaction: attempts started, older jobs coalesced into the ones that
   * run. Returns each matched worker's assignment.
   */
  async assignWork(
    pool: string,
    waiting: readonly WaitingWorker[],
    policy: SchedulingPolicy,
    lease: { leaseMs: number; heartbeatSeconds: number },
  ): Promise<Map<string, JobAssignment>> {
    return this.write(async (ctx) => {
      const assignments = new Map<string, JobAssignment>();
      const names = waiting.map((w) => w.name);
      // On PostgreSQL the queue's first page comes with the workers, one round trip for both;
      // sized for every waiting worker, as the idle ones among them are not known before.
      const snapshot =
        dialectOf(ctx.trx) === 'postgres'
          ? await workersAndFirstPageOnPostgres(ctx, pool, names, queuePageSize(names.length))
          : null;
      const found =
        snapshot?.workers ??
        (await ctx.trx
          .selectFrom('workers')
          .selectAll()
          .$if(ctx.awaitingNow, (q) => q.select(DATABASE_NOW_MS.as('database_now')))
          .where('name', 'in', names)
          .where('pool', '=', pool)
          .where('current_attempt', 'is', null)
          .execute());
      await settleNow(ctx, snapshot?.databaseNow ?? found[0]?.database_now);
      const rows: WorkerRow[] = found.map(({ database_now: _, ...row }) => row);
      const idleSince = new Map(waiting.map((w) => [w.name, w.idleSince]));
      let idle = rows.map((row) => toSchedulableWorker(row, idleSince.get(row.name) ?? ctx.now));
      let after: { rank: number; id: number } | null = null;
      let prefetched = snapshot?.page;
      while (idle.length > 0) {
        const pageSize = prefetched ? queuePageSize(names.length) : queuePageSize(idle.length);
        const page = prefetched ?? (await pendingPage(ctx.trx, pool, after, pageSize).execute());
        prefetched = undefined;
        let pending = page.map((row) => toSchedulableJob(row, ctx.priorityLevelMs));
        if (page.length === pageSize && policy.coalescing) pending.push(...(await this.newerCoalescible(ctx, page)));
        for (;;) {
          const decisions = schedule({ now: ctx.now, pending, idle, policy });
          const decided = new Set<number>();
          let lost = false;
          for (const decision of decisions) {
            decided.add(decision.jobId);
            const started = await this.startAttempt(ctx, decision.jobId, decision.worker, decision.why, lease);
            if (!started) {
              lost = true;
              continue;
            }
            assignments.set(decision.worker, started.assignment);
            for (const id of decision.coalesced) {
              decided.add(id);
              await coalesceJob(ctx, id, started.job);
            }
          }
          idle = idle.filter((w) => !assignments.has(w.name));
          if (!lost || idle.length === 0) break;
          // Another coordinator started a chosen job after this page was read: the workers it
          // was meant for are matched again with what is left.
          pending = pending.filter((job) => !decided.has(job.id));
        }
        if (page.length < pageSize) break;
        const last = page.at(-1) as SchedulableRow;
        after = { rank: last.queue_rank, id: last.id };
      }
      return assignments;
    }, true);
  }

  /**
   * The newer pending jobs, beyond this page of the queue, of the coalescing builders and
   * branches in it: a coalesced run must be the newest of its group, wherever that one stands.
   */
  private async newerCoalescible(ctx: WriteContext, page: readonly SchedulableRow[]): Promise<SchedulableJob[]> {
    const last = page.at(-1) as SchedulableRow;
    const groups = new Map<string, SchedulableRow>();
    for (const row of page)
      if (row.coalesce_limit !== null) groups.set(`${row.repo}\u0000${row.builder}\u0000${row.branch}`, row);
    const extras: SchedulableJob[] = [];
    for (const row of groups.values()) {
      const newer = await ctx.trx
        .selectFrom('jobs')
        .select(SCHEDULABLE_COLUMNS)
        .where('state', '=', PENDING)
        .where('pool', '=', row.pool)
        .where('repo', '=', row.repo)
        .where('builder', '=', row.builder)
        .where('branch', '=', row.branch)
        .where('coalesce_limit', 'is not', null)
        .where((eb) =>
          eb.or([
            eb('queue_rank', '>', last.queue_rank),
            eb.and([eb('queue_rank', '=', last.queue_rank), eb('id', '>', last.id)]),
          ]),
        )
        .orderBy('queue_rank', 'desc')
        .limit(row.coalesce_limit as number)
        .execute();
      for (const extra of newer) {
        extras.push({ ...toSchedulableJob(extra, ctx.priorityLevelMs), coalesceTargetOnly: true });
      }
    }
    return extras;
  }

  private async startAttempt(
    ctx: WriteContext,
    jobId: number,
    workerName: string,
    why: string,
    lease: { leaseMs: number; heartbeatSeconds: number },
  ): Promise<{ assignment: JobAssignment; job: JobRow } | null> {
    const started = await beginAttempt(ctx, { jobId, workerName, why, leaseMs: lease.leaseMs });
    if (!started) return null;
    const { jobRow, attempt } = started;
    ctx.jobs.set(jobRow.id, jobRow);
    ctx.attempts.set(attempt.id, attempt);
    await ctx.emit('job.started', { job: toJob(jobRow), attempt: attempt.number, worker: workerName }, jobDims(jobRow));
    const spec = JSON.parse(jobRow.spec) as Omit<JobSpec, 'id'>;
    const assignment = {
      attemptId: attempt.id,
      attemptNumber: attempt.number,
      leaseSeconds: Math.round(lease.leaseMs / 1000),
      heartbeatSeconds: lease.heartbeatSeconds,
      job: { id: jobRow.id, ...spec },
    };
    return { assignment, job: jobRow };
  }

  /**
   * The aging setting the queue was ranked with differs from `priorityLevelMs`'s: pending jobs
   * take their places in the queue it implies, and it is stored. Replicas start (and reload)
   * with the same config, so only the first to see a change re-ranks; on PostgreSQL they take
   * turns on a transaction-scoped lock, so the second reads what the first stored.
   */
  async rerankPending(priorityLevelMs: number): Promise<boolean> {
    return this.write(async (ctx) => {
      if (dialectOf(ctx.trx) === 'postgres') {
        await sql`select pg_advisory_xact_lock(${sql.lit(QUEUE_RANK_LOCK)})`.execute(ctx.trx);
      }
      const stored = await ctx.trx
        .selectFrom('farm_settings')
        .select('value')
        .where('name', '=', PRIORITY_LEVEL_SETTING)
        .executeTakeFirst();
      if (stored !== undefined && Number(stored.value) === priorityLevelMs) return false;
      await ctx.trx
        .updateTable('jobs')
        .set({ queue_rank: sql<number>`priority * ${priorityLevelMs} + pending_at` })
        .where('state', '=', 'pending')
        .execute();
      ctx.jobs.clear();
      const value = String(priorityLevelMs);
      await ctx.trx
        .insertInto('farm_settings')
        .values({ name: PRIORITY_LEVEL_SETTING, value })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
        .execute();
      return true;
    });
  }

  /** The claim broker could not hand this assignment over (the worker's request was gone). */
  async releaseUndelivered(attemptId: number): Promise<void> {
    await this.write(async (ctx) => {
      const attempt = await attemptRow(ctx, attemptId);
      if (attempt?.state !== 'running') return;
      const started = await ctx.trx
        .selectFrom('steps')
        .select('idx')
        .where('attempt_id', '=', attemptId)
        .executeTakeFirst();
      if (!started) await requeueUndelivered(ctx, attempt);
    });
  }

  private async touchWorker(
    ctx: WriteContext,
    name: string,
    request: ClaimRequest,
    existing: WorkerRow | undefined,
    credential: string | null,
  ): Promise<WorkerRow> {
    const values = workerValues(request, credential, ctx.now);
    const row = existing
      ? await ctx.trx
          .updateTable('workers')
          .set(values)
          .where('name', '=', name)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await ctx.trx
          .insertInto('workers')
          .values({ name, ...values, current_attempt: null, first_seen: ctx.now })
          .returningAll()
          .executeTakeFirstOrThrow();
    if (!existing || existing.online === 0) {
      await ctx.emit('worker.connected', { worker: toWorker(row, null, ctx.now) });
    }
    return row;
  }

  async heartbeat(attemptId: number, leaseMs: number, credential: string | null): Promise<HeartbeatResponse> {
    return this.write(async (ctx) => {
      const attempt = await requireAttempt(ctx, attemptId);
      if (credential !== null) {
        const worker = await ctx.trx
          .selectFrom('workers')
          .select(['name', 'credential'])
          .where('name', '=', attempt.worker)
          .executeTakeFirst();
        if (worker) checkCredential(worker, credential);
      }
      if (attempt.state === 'cancelled') {
        return { cancel: true, leaseExpiresAt: iso(attempt.finished_at ?? ctx.now), heldMs: 0 };
      }
      if (attempt.state !== 'running') throw leaseLost(attempt);
      requireLiveLease(ctx, attempt);
      const leaseExpiresAt = ctx.now + leaseMs;
      await ctx.trx
        .updateTable('attempts')
        .set({ lease_expires_at: leaseExpiresAt })
        .where('id', '=', attemptId)
        .execute();
      ctx.attempts.set(attemptId, { ...attempt, lease_expires_at: leaseExpiresAt });
      await ctx.trx.updateTable('workers').set({ last_seen: ctx.now }).where('name', '=', attempt.worker).execute();
      return { cancel: false, leaseExpiresAt: iso(leaseExpiresAt), heldMs: 0 };
    }, true);
  }

  async releaseCredential(workerName: string): Promise<void> {
    await this.write(async (ctx) => {
      const released = await ctx.trx
        .updateTable('workers')
        .set({ credential: null })
        .where('name', '=', workerName)
        .executeTakeFirst();
      if (Number(released.numUpdatedRows) === 0) throw notFound(`no worker named ${workerName}`);
    });
  }

  /**
   * Ends every running attempt whose lease expired: the worker is gone. Every replica runs this;
   * on PostgreSQL each batch takes its attempts `FOR UPDATE SKIP LOCKED`, so two replicas never
   * end one attempt twice nor wait for each other, and a heartbeat holding an attempt's row is
   * passed over (its renewal is checked against the same lease, see requireAttempt).
   */
  async expireLeases(): Promise<number> {
    let ended = 0;
    for (;;) {
      const batch = await this.write(async (ctx) => {
        const expired = await ctx.trx
          .selectFrom('attempts')
          .selectAll()
          .where('state', '=', RUNNING)
          .where('lease_expires_at', '<', ctx.now)
          .orderBy('lease_expires_at')
          .limit(REAP_BATCH)
          .$if(dialectOf(ctx.trx) === 'postgres', (q) => q.forUpdate().skipLocked())
          .execute();
        for (const attempt of expired) {
          const silentFor = Math.round((ctx.now - (attempt.lease_expires_at as number)) / 1000);
          await endAttempt(ctx, attempt, 'exception', 'worker-lost', {
            message: `worker ${attempt.worker} stopped heartbeating; its lease expired ${silentFor} s ago`,
          });
          await this.markWorkerOffline(ctx, attempt.worker, 'lease expired while running a job');
        }
        return expired.length;
      });
      ended += batch;
      if (batch < REAP_BATCH) return ended;
    }
  }

  /**
   * Workers that neither claim nor run anything for `silenceMs` are offline. Every replica runs
   * this, taking rows as expireLeases does. `stillWaiting` are the workers whose claim this
   * replica holds; one waiting on another replica checked in within a claim's wait, so it is
   * not silent.
   */
  async expireIdleWorkers(silenceMs: number, stillWaiting: ReadonlySet<string>): Promise<void> {
    for (;;) {
      const batch = await this.write(async (ctx) => {
        const silent = await ctx.trx
          .selectFrom('workers')
          .select('name')
          .where('online', '=', 1)
          .where('current_attempt', 'is', null)
          .where('last_seen', '<', ctx.now - silenceMs)
          .$if(stillWaiting.size > 0, (q) => q.where('name', 'not in', [...stillWaiting]))
          .orderBy('last_seen')
          .limit(REAP_BATCH)
          .$if(dialectOf(ctx.trx) === 'postgres', (q) => q.forUpdate().skipLocked())
          .execute();
        for (const { name } of silent) {
          await this.markWorkerOffline(ctx, name, `no claim for ${Math.round(silenceMs / 1000)} s`);
        }
        return silent.length;
      });
      if (batch < REAP_BATCH) return;
    }
  }

  private async markWorkerOffline(ctx: WriteContext, name: string, reason: string): Promise<void> {
    const row = await ctx.trx
      .updateTable('workers')
      .set({ online: 0, current_attempt: null })
      .where('name', '=', name)
      .where('online', '=', 1)
      .returningAll()
      .executeTakeFirst();
    if (row) await ctx.emit('worker.disconnected', { worker: toWorker(row, null, ctx.now), reason });
  }

  /**
   * After a coordinator restart, running attempts get a full lease from now: the coordinator
   * was away, not their workers, which could not heartbeat meanwhile.
   */
  async renewLeasesAfterRestart(leaseMs: number): Promise<void> {
    await this.write(async (ctx) => {
      const until = ctx.now + leaseMs;
      await ctx.trx
        .updateTable('attempts')
        .set({ lease_expires_at: until })
        .where('state', '=', RUNNING)
        .where('lease_expires_at', '<', until)
        .execute();
      ctx.attempts.clear();
    });
  }

  // ---- worker reports ----------------------------------------------------------------------

  async stepStarted(attemptId: number, index: number, request: StepStartedRequest): Promise<void> {
    await this.write((ctx) => recordStepStarted(ctx, attemptId, { index, request }), true);
  }

  async stepFinished(attemptId: number, index: number, request: StepFinishedRequest): Promise<void> {
    await this.write((ctx) => recordStepFinished(ctx, attemptId, index, request), true);
  }

  async attemptFinished(attemptId: number, request: AttemptFinishedRequest): Promise<void> {
    await this.write((ctx) => recordAttemptFinished(ctx, attemptId, request), true);
  }

  async report(
    attemptId: number,
    entries: readonly ReportRecord[],
    claimAfter?: ClaimAfterReport,
  ): Promise<{ cancel: boolean; checkedIn?: CheckedIn }> {
    return this.write((ctx) => recordReport(ctx, attemptId, entries, claimAfter), true);
  }

  // ---- user actions ------------------------------------------------------------------------

  async cancelJob(jobId: number) {
    return this.write(async (ctx) => {
      const job = await requireJob(ctx, jobId);
      if (isFinalJobState(job.state as JobState)) {
        throw conflict(`job ${jobId} has already ended (${job.state})`, { state: job.state });
      }
      if (job.state === 'running') {
        const attempt = await ctx.trx
          .selectFrom('attempts')
          .selectAll()
          .where('job_id', '=', jobId)
          .where('state', '=', 'running')
          .executeTakeFirst();
        if (attempt) {
          await closeAttempt(
            ctx,
            attempt,
            job,
            { state: 'cancelled', reason: 'cancelled', message: null, finishedAt: ctx.now },
            { change: { kind: 'final', state: 'cancelled', reason: 'cancelled' } },
          );
          return toJob(await jobRow(ctx, jobId));
        }
      }
      await finishJob(ctx, job, 'cancelled', 'cancelled');
      return toJob(await jobRow(ctx, jobId));
    });
  }

  async retriggerJob(farm: Farm, jobId: number) {
    return this.write(async (ctx) => {
      const job = await requireJob(ctx, jobId);
      const push = await ctx.trx
        .selectFrom('pushes')
        .selectAll()
        .where('id', '=', job.push_id)
        .executeTakeFirstOrThrow();
      const pushJobs = await ctx.trx
        .selectFrom('jobs')
        .select(['id', 'builder', 'state'])
        .where('push_id', '=', job.push_id)
        .orderBy('id')
        .execute();
      const newestJobs = new Map(pushJobs.map((row) => [row.builder, { id: row.id, state: row.state as JobState }]));
      const plan = planRetrigger(farm, {
        job: { id: job.id, builder: job.builder, state: job.state as JobState, pushId: job.push_id },
        push: { repo: push.repo, repoUrl: push.repo_url, branch: push.branch, revision: push.revision },
        newestJobs,
      });
      if (plan.kind === 'refused') throw conflict(plan.message, plan.details);
      const row = await insertJob(ctx, push, plan.job, { dependsOn: plan.dependsOnJobs, retriggeredFrom: job.id });
      await announceJob(ctx, row);
      return toJob(row);
    });
  }
}
