import type {
  BuilderStats,
  LastGreen,
  PushTimes,
  StatsQuery,
  WaitTimes,
  WorkerUtilisation,
} from '@switchyard/protocol';
import type { Kysely } from 'kysely';
import { builderStats } from '../stats/builder-stats.ts';
import type { Window } from '../stats/distribution.ts';
import { currentJobs, isGreen } from '../stats/push-outcome.ts';
import { type PushHistory, pushTimes } from '../stats/push-times.ts';
import { waitTimes } from '../stats/wait-times.ts';
import { workerUtilisation } from '../stats/worker-utilisation.ts';
import { notFound } from './errors.ts';
import { iso } from './mappers.ts';
import type { StatsStore } from './port.ts';
import type { Database } from './schema.ts';

const DAY = 86_400_000;
const PAGE = 100;

/** The answers people ask for, read from the history in the database and computed by the pure modules. */
export class StatsQueries implements StatsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

  window(query: StatsQuery): Window {
    const to = this.clock();
    return { from: to - (query.days ?? 7) * DAY, to };
  }

  async pushTimes(query: StatsQuery): Promise<PushTimes> {
    const window = this.window(query);
    let pushes = this.db.selectFrom('pushes').selectAll().where('created_at', '>=', window.from);
    if (query.repo) pushes = pushes.where('repo', '=', query.repo);
    if (query.branch) pushes = pushes.where('branch', '=', query.branch);
    const rows = await pushes.orderBy('id').execute();
    return pushTimes(await this.withJobs(rows), window);
  }

  async waitTimes(query: StatsQuery): Promise<WaitTimes> {
    const window = this.window(query);
    let jobs = this.db
      .selectFrom('jobs')
      .select(['pool', 'pending_at', 'started_at'])
      .where('started_at', '>=', window.from)
      .where('pending_at', 'is not', null);
    if (query.pool) jobs = jobs.where('pool', '=', query.pool);
    if (query.repo) jobs = jobs.where('repo', '=', query.repo);
    if (query.branch) jobs = jobs.where('branch', '=', query.branch);
    const rows = await jobs.execute();
    return waitTimes(
      rows.map((row) => ({ pool: row.pool, pendingAt: row.pending_at as number, startedAt: row.started_at as number })),
      window,
    );
  }

  async builderStats(query: StatsQuery): Promise<BuilderStats> {
    const window = this.window(query);
    let jobs = this.db
      .selectFrom('jobs')
      .select(['builder', 'state', 'started_at', 'finished_at'])
      .where('finished_at', '>=', window.from);
    if (query.repo) jobs = jobs.where('repo', '=', query.repo);
    if (query.branch) jobs = jobs.where('branch', '=', query.branch);
    if (query.builder) jobs = jobs.where('builder', '=', query.builder);
    if (query.pool) jobs = jobs.where('pool', '=', query.pool);
    const rows = await jobs.execute();
    return builderStats(
      rows.map((row) => ({
        builder: row.builder,
        state: row.state,
        startedAt: row.started_at,
        finishedAt: row.finished_at as number,
      })),
      window,
    );
  }

  async workerUtilisation(query: StatsQuery): Promise<WorkerUtilisation> {
    const window = this.window(query);
    let workers = this.db.selectFrom('workers').selectAll();
    if (query.pool) workers = workers.where('pool', '=', query.pool);
    const workerRows = await workers.execute();
    const attempts = await this.db
      .selectFrom('attempts')
      .select(['worker', 'started_at', 'finished_at'])
      .where((eb) => eb.or([eb('finished_at', 'is', null), eb('finished_at', '>=', window.from)]))
      .execute();
    return workerUtilisation(
      workerRows.map((row) => ({
        name: row.name,
        pool: row.pool,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        online: row.online === 1,
      })),
      attempts.map((row) => ({ worker: row.worker, startedAt: row.started_at, finishedAt: row.finished_at })),
      window,
    );
  }

  /**
   * The newest push of the branch whose every job (the newest per builder) succeeded, looking
   * back through at most `searchPushes` pushes (all of them by default).
   */
  async lastGreen(repo: string, branch: string, searchPushes = Number.POSITIVE_INFINITY): Promise<LastGreen> {
    let before = Number.MAX_SAFE_INTEGER;
    let searched = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('pushes')
        .selectAll()
        .where('repo', '=', repo)
        .where('branch', '=', branch)
        .where('id', '<', before)
        .orderBy('id', 'desc')
        .limit(PAGE)
        .execute();
      for (const push of await this.withJobs(rows)) {
        if (!isGreen(push.jobs)) continue;
        const jobs = currentJobs(push.jobs);
        const row = rows.find((r) => r.id === push.id) as (typeof rows)[number];
        return {
          repo,
          branch,
          revision: push.revision,
          push: push.id,
          author: row.author,
          pushedAt: iso(push.createdAt),
          completedAt: iso(Math.max(...jobs.map((job) => job.finishedAt as number))),
          jobs: jobs.length,
        };
      }
      searched += rows.length;
      if (rows.length < PAGE || searched >= searchPushes) {
        throw notFound(`no push on ${repo} ${branch} has had every job succeed`, { repo, branch });
      }
      before = (rows.at(-1) as (typeof rows)[number]).id;
    }
  }

  private async withJobs(
    pushes: ReadonlyArray<{ id: number; repo: string; branch: string; revision: string; created_at: number }>,
  ): Promise<PushHistory[]> {
    if (pushes.length === 0) return [];
    const jobs = await this.db
      .selectFrom('jobs')
      .select(['id', 'push_id', 'builder', 'state', 'reason', 'finished_at'])
      .where(
        'push_id',
        'in',
        pushes.map((p) => p.id),
      )
      .execute();
    const byPush = new Map<number, PushHistory['jobs']>();
    for (const job of jobs) {
      const list = byPush.get(job.push_id) ?? [];
      list.push({
        id: job.id,
        builder: job.builder,
        state: job.state,
        reason: job.reason,
        finishedAt: job.finished_at,
      });
      byPush.set(job.push_id, list);
    }
    return pushes.map((push) => ({
      id: push.id,
      repo: push.repo,
      branch: push.branch,
      revision: push.revision,
      createdAt: push.created_at,
      jobs: byPush.get(push.id) ?? [],
    }));
  }
}
