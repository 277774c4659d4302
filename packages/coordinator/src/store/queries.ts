import { type Job, type JobDetail, type Push, statesBefore, type Worker } from '@switchyard/protocol';
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { effectivePriority } from '../scheduler/queue-order.ts';
import { explainWaiting, type PoolWorkerState } from '../scheduler/waiting-reason.ts';
import { notFound } from './errors.ts';
import { type JobRow, toAttempt, toJob, toPush, toWorker } from './mappers.ts';
import { PENDING } from './partial-indexes.ts';
import type { PushFilter } from './port.ts';
import type { Database } from './schema.ts';

/** `%`, `_` and the escape character itself, taken literally by a LIKE with `escape '\\'`. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The jobs of the push being listed that stand for their builder (none newer of the same
 * builder: a retrigger replaces the job it ran again) and are in one of `states`.
 */
function newestJobsIn(eb: ExpressionBuilder<Database, 'pushes'>, states: readonly string[]) {
  return eb
    .selectFrom('jobs as job')
    .select(sql.lit(1).as('one'))
    .whereRef('job.push_id', '=', 'pushes.id')
    .where('job.state', 'in', states)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('jobs as newer')
            .select(sql.lit(1).as('one'))
            .whereRef('newer.push_id', '=', 'job.push_id')
            .whereRef('newer.builder', '=', 'job.builder')
            .whereRef('newer.id', '>', 'job.id'),
        ),
      ),
    );
}

/** The read side: what the API and the CLI ask about. Reads never write. */
export class Queries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

  async listPushes(filter: PushFilter & { limit: number; before?: number }): Promise<Push[]> {
    let query = this.db.selectFrom('pushes').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.repo) query = query.where('repo', '=', filter.repo);
    if (filter.branch) query = query.where('branch', '=', filter.branch);
    if (filter.before) query = query.where('id', '<', filter.before);
    // LIKE ignores case on SQLite and not on PostgreSQL: both compare lower-cased text.
    if (filter.author) {
      const pattern = `%${escapeLike(filter.author.toLowerCase())}%`;
      query = query.where(sql<boolean>`lower(${sql.ref('author')}) like ${pattern} escape '\\'`);
    }
    if (filter.revision) {
      const pattern = `${escapeLike(filter.revision.toLowerCase())}%`;
      query = query.where(sql<boolean>`lower(${sql.ref('revision')}) like ${pattern} escape '\\'`);
    }
    const result = filter.result;
    if (result === 'empty') {
      query = query.where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('jobs').select(sql.lit(1).as('one')).whereRef('jobs.push_id', '=', 'pushes.id'))),
      );
    } else if (result) {
      // Its newest job of some builder is in that state, and none is in a state that shows first.
      query = query.where((eb) => eb.exists(newestJobsIn(eb, [result])));
      const before = statesBefore(result);
      if (before.length > 0) query = query.where((eb) => eb.not(eb.exists(newestJobsIn(eb, before))));
    }
    const pushes = await query.execute();
    if (pushes.length === 0) return [];
    const jobs = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where(
        'push_id',
        'in',
        pushes.map((p) => p.id),
      )
      .orderBy('id')
      .execute();
    return pushes.map((p) =>
      toPush(
        p,
        jobs.filter((j) => j.push_id === p.id),
      ),
    );
  }

  async getPush(id: number): Promise<Push> {
    const push = await this.db.selectFrom('pushes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!push) throw notFound(`push ${id} does not exist`);
    const jobs = await this.db.selectFrom('jobs').selectAll().where('push_id', '=', id).orderBy('id').execute();
    return toPush(push, jobs);
  }

  async listJobs(filter: {
    states?: string[];
    repo?: string;
    branch?: string;
    builder?: string;
    pool?: string;
    limit: number;
    before?: number;
  }): Promise<Job[]> {
    let query = this.db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.states && filter.states.length > 0) query = query.where('state', 'in', filter.states);
    if (filter.repo) query = query.where('repo', '=', filter.repo);
    if (filter.branch) query = query.where('branch', '=', filter.branch);
    if (filter.builder) query = query.where('builder', '=', filter.builder);
    if (filter.pool) query = query.where('pool', '=', filter.pool);
    if (filter.before) query = query.where('id', '<', filter.before);
    return (await query.execute()).map(toJob);
  }

  /**
   * A job with its attempts and why it stands where it does in the queue. `waitingWorkers`:
   * the workers whose claim the coordinator is holding right now (idle, ready for work).
   */
  async getJob(id: number, waitingWorkers: ReadonlySet<string> = new Set(), agingMs = 0): Promise<JobDetail> {
    const job = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!job) throw notFound(`job ${id} does not exist`);
    const attempts = await this.db
      .selectFrom('attempts')
      .selectAll()
      .where('job_id', '=', id)
      .orderBy('number')
      .execute();
    const steps =
      attempts.length === 0
        ? []
        : await this.db
            .selectFrom('steps')
            .selectAll()
            .where(
              'attempt_id',
              'in',
              attempts.map((a) => a.id),
            )
            .orderBy('idx')
            .execute();
    return {
      ...toJob(job),
      attempts: attempts.map((a) =>
        toAttempt(
          a,
          steps.filter((s) => s.attempt_id === a.id),
        ),
      ),
      scheduling: await this.schedulingView(job, waitingWorkers, agingMs),
    };
  }

  private async schedulingView(job: JobRow, waitingWorkers: ReadonlySet<string>, agingMs: number) {
    if (job.state !== 'pending' || job.pending_at === null) {
      return { waitingBecause: null, chosenBecause: job.claim_reason, queuePosition: null, effectivePriority: null };
    }
    const now = this.clock();
    const { ahead } = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('ahead'))
      .where('state', '=', PENDING)
      .where('pool', '=', job.pool)
      .where((eb) =>
        eb.or([
          eb('queue_rank', '<', job.queue_rank),
          eb.and([eb('queue_rank', '=', job.queue_rank), eb('id', '<', job.id)]),
        ]),
      )
      .executeTakeFirstOrThrow();
    const workers = await this.db
      .selectFrom('workers')
      .select(['name', 'tags', 'current_attempt', 'benched_until'])
      .where('pool', '=', job.pool)
      .where('online', '=', 1)
      .execute();
    const states: PoolWorkerState[] = workers.map((w) => {
      const benched = w.benched_until !== null && w.benched_until > now;
      return {
        name: w.name,
        tags: JSON.parse(w.tags) as Record<string, string>,
        // Online, not running anything and not holding a claim: between two jobs, so busy for now.
        state: benched ? 'benched' : w.current_attempt === null && waitingWorkers.has(w.name) ? 'idle' : 'busy',
        benchedUntil: w.benched_until,
      };
    });
    const waitingJob = { pool: job.pool, requiredTags: JSON.parse(job.required_tags) as Record<string, string> };
    return {
      waitingBecause: explainWaiting(waitingJob, states, Number(ahead)),
      chosenBecause: null,
      queuePosition: Number(ahead) + 1,
      effectivePriority: effectivePriority({ priority: job.priority, pendingSince: job.pending_at }, agingMs, now),
    };
  }

  /** The attempt of a job to read logs from: the given number, or the latest. */
  async findAttempt(jobId: number, number?: number) {
    const job = await this.db.selectFrom('jobs').select(['id', 'state']).where('id', '=', jobId).executeTakeFirst();
    if (!job) throw notFound(`job ${jobId} does not exist`);
    let query = this.db.selectFrom('attempts').selectAll().where('job_id', '=', jobId);
    query = number === undefined ? query.orderBy('number', 'desc') : query.where('number', '=', number);
    const attempt = await query.executeTakeFirst();
    if (!attempt && number !== undefined) throw notFound(`job ${jobId} has no attempt ${number}`);
    return { job, attempt: attempt ?? null };
  }

  async stepsOf(attemptId: number) {
    return this.db.selectFrom('steps').selectAll().where('attempt_id', '=', attemptId).orderBy('idx').execute();
  }

  async attemptState(attemptId: number) {
    return this.db.selectFrom('attempts').select(['state', 'reason']).where('id', '=', attemptId).executeTakeFirst();
  }

  async jobState(jobId: number) {
    return this.db.selectFrom('jobs').select(['state', 'attempt_count']).where('id', '=', jobId).executeTakeFirst();
  }

  async listWorkers(): Promise<Worker[]> {
    const rows = await this.db
      .selectFrom('workers')
      .leftJoin('attempts', 'attempts.id', 'workers.current_attempt')
      .selectAll('workers')
      .select('attempts.job_id')
      .orderBy('workers.name')
      .execute();
    const now = this.clock();
    return rows.map((row) => toWorker(row, row.job_id ?? null, now));
  }

  async jobCountsByState(): Promise<Array<{ state: string; pool: string; count: number }>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['state', 'pool'])
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .groupBy(['state', 'pool'])
      .execute();
    return rows.map((r) => ({ state: r.state, pool: r.pool, count: Number(r.count) }));
  }
}
