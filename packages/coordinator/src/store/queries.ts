import {
  ApiError,
  type EventFilter,
  type Job,
  type JobDetail,
  type Push,
  type SwitchyardEvent,
  type Worker,
} from '@switchyard/protocol';
import type { Kysely } from 'kysely';
import { iso, toAttempt, toJob, toPush, toWorker } from './mappers.ts';
import type { Database } from './schema.ts';

/** The read side: what the API and the CLI ask about. Reads never write. */
export class Queries {
  constructor(private readonly db: Kysely<Database>) {}

  async listPushes(filter: { repo?: string; branch?: string; limit: number; before?: number }): Promise<Push[]> {
    let query = this.db.selectFrom('pushes').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.repo) query = query.where('repo', '=', filter.repo);
    if (filter.branch) query = query.where('branch', '=', filter.branch);
    if (filter.before) query = query.where('id', '<', filter.before);
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
    if (!push) throw new ApiError('not-found', `push ${id} does not exist`);
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

  async getJob(id: number): Promise<JobDetail> {
    const job = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!job) throw new ApiError('not-found', `job ${id} does not exist`);
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
    };
  }

  /** The attempt of a job to read logs from: the given number, or the latest. */
  async findAttempt(jobId: number, number?: number) {
    const job = await this.db.selectFrom('jobs').select(['id', 'state']).where('id', '=', jobId).executeTakeFirst();
    if (!job) throw new ApiError('not-found', `job ${jobId} does not exist`);
    let query = this.db.selectFrom('attempts').selectAll().where('job_id', '=', jobId);
    query = number === undefined ? query.orderBy('number', 'desc') : query.where('number', '=', number);
    const attempt = await query.executeTakeFirst();
    if (!attempt && number !== undefined) throw new ApiError('not-found', `job ${jobId} has no attempt ${number}`);
    return { job, attempt: attempt ?? null };
  }

  async stepsOf(attemptId: number) {
    return this.db.selectFrom('steps').selectAll().where('attempt_id', '=', attemptId).orderBy('idx').execute();
  }

  /** Attempts that are over but have logs not yet compressed (a shutdown interrupted it). */
  async attemptsWithRawLogs(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('steps')
      .innerJoin('attempts', 'attempts.id', 'steps.attempt_id')
      .select('steps.attempt_id')
      .distinct()
      .where('steps.log_compressed', '=', 0)
      .where('attempts.state', '!=', 'running')
      .execute();
    return rows.map((r) => r.attempt_id);
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
    return rows.map((row) => toWorker(row, row.job_id ?? null));
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

  async lastEventId(): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max<number | null>('id').as('id'))
      .executeTakeFirst();
    return row?.id ?? 0;
  }

  async readEvents(afterId: number, limit: number, filter: EventFilter = {}): Promise<SwitchyardEvent[]> {
    let query = this.db.selectFrom('events').selectAll().where('id', '>', afterId).orderBy('id').limit(limit);
    if (filter.types && filter.types.length > 0) query = query.where('type', 'in', filter.types);
    if (filter.repo) query = query.where('repo', '=', filter.repo);
    if (filter.branch) query = query.where('branch', '=', filter.branch);
    if (filter.builder) query = query.where('builder', '=', filter.builder);
    if (filter.job) query = query.where('job_id', '=', filter.job);
    if (filter.push) query = query.where('push_id', '=', filter.push);
    const rows = await query.execute();
    return rows.map(
      (row) =>
        ({ id: row.id, type: row.type, time: iso(row.created_at), data: JSON.parse(row.data) }) as SwitchyardEvent,
    );
  }
}
