import { isFinalJobState } from '@switchyard/protocol';
import { type Insertable, sql } from 'kysely';
import type { JobPlan } from '../scheduler/plan-push.ts';
import { DATABASE_NOW_MS, settleNow } from './database-time.ts';
import { dialectOf } from './dialect.ts';
import type { JobRow, PushRow } from './mappers.ts';
import type { PushesTable } from './schema.ts';
import { insertJob, plannedJobColumns, rememberJobsOfPush } from './transitions.ts';
import type { WriteContext } from './write-context.ts';

export type NewPush = Omit<Insertable<PushesTable>, 'id' | 'created_at'>;

/**
 * Inserts a push and the jobs planned for it (scheduler/plan-push.ts, in an order where each
 * job comes after those it depends on), with their dependencies as job ids, at the
 * transaction's time: on the database's time, this first statement reads it.
 *
 * On PostgreSQL the push and all its jobs are one statement (data-modifying WITHs), and their
 * dependencies a second one when some job has any: a push of twenty jobs costs one or two round
 * trips rather than twenty-one. On SQLite, where a statement costs no round trip, each is an
 * insert of its own.
 */
export async function insertPushWithJobs(
  ctx: WriteContext,
  push: NewPush,
  plans: readonly JobPlan[],
): Promise<{ push: PushRow; jobs: JobRow[] }> {
  const inserted =
    dialectOf(ctx.trx) === 'postgres' ? await insertAtOnce(ctx, push, plans) : await insertOneByOne(ctx, push, plans);
  rememberJobsOfPush(ctx, inserted.push, inserted.jobs);
  return inserted;
}

function createdAt(ctx: WriteContext) {
  return ctx.awaitingNow ? DATABASE_NOW_MS : ctx.now;
}

async function insertOneByOne(ctx: WriteContext, push: NewPush, plans: readonly JobPlan[]) {
  const pushRow = await ctx.trx
    .insertInto('pushes')
    .values({ ...push, created_at: createdAt(ctx) })
    .returningAll()
    .executeTakeFirstOrThrow();
  await settleNow(ctx, pushRow.created_at);
  const idByBuilder = new Map<string, number>();
  const jobs: JobRow[] = [];
  for (const plan of plans) {
    const dependsOn = plan.dependsOn.map((builder) => idByBuilder.get(builder) as number);
    const row = await insertJob(ctx, pushRow, plan, { dependsOn, retriggeredFrom: null });
    idByBuilder.set(plan.builder, row.id);
    jobs.push(row);
  }
  return { push: pushRow, jobs };
}

async function insertAtOnce(ctx: WriteContext, push: NewPush, plans: readonly JobPlan[]) {
  // What the jobs take from the push (its id, revision and time) the statement fills in: the
  // spec gets the push's id first, as storedSpec writes it (a planned spec is never empty); queue
  // ranks are the push's time plus each job's priority offset, as insertJob ranks them.
  const planned = plans.map((plan, n) => ({
    n,
    ...plannedJobColumns(plan),
    rank_offset: plan.priority * ctx.priorityLevelMs,
    pending: plan.state === 'pending',
    final: isFinalJobState(plan.state),
  }));
  const { rows } = await sql<{ push: PushRow; jobs: JobRow[] }>`
    with push as (
      insert into pushes (repo, repo_url, branch, revision, author, message, files, created_at)
      values (${push.repo}, ${push.repo_url}, ${push.branch}, ${push.revision}, ${push.author}, ${push.message},
        ${push.files}, ${createdAt(ctx)})
      returning *
    ), job as (
      insert into jobs (push_id, repo, branch, revision, author, builder, pool, state, reason, spec, required_tags,
        depends_on, priority, prefer, coalesce_limit, coalesced_into, exact, claim_reason, queue_rank, attempt_count,
        max_attempts, retriggered_from, worker, created_at, pending_at, started_at, finished_at)
      select push.id, push.repo, push.branch, push.revision, push.author, planned.builder, planned.pool, planned.state,
        planned.reason, '{"pushId":' || push.id || ',' || substr(planned.spec, 2), planned.required_tags, '[]',
        planned.priority, planned.prefer, planned.coalesce_limit, null, planned.exact, null,
        push.created_at + planned.rank_offset, 0, planned.max_attempts, null, null, push.created_at,
        case when planned.pending then push.created_at end, null, case when planned.final then push.created_at end
      from push cross join json_to_recordset(${JSON.stringify(planned)}::json) as planned(n integer, builder text,
        pool text, state text, reason text, spec text, required_tags text, priority integer, prefer text,
        coalesce_limit integer, exact integer, max_attempts integer, rank_offset double precision, pending boolean,
        final boolean)
      order by planned.n
      returning *
    )
    select to_json(push) as push, (select coalesce(json_agg(job order by job.id), '[]'::json) from job) as jobs
    from push`.execute(ctx.trx);
  const inserted = rows[0] as { push: PushRow; jobs: JobRow[] };
  await settleNow(ctx, inserted.push.created_at);
  const idByBuilder = new Map(inserted.jobs.map((row) => [row.builder, row.id]));
  const links = plans.flatMap((plan) =>
    plan.dependsOn.length === 0
      ? []
      : [
          {
            id: idByBuilder.get(plan.builder) as number,
            depends_on: JSON.stringify(plan.dependsOn.map((builder) => idByBuilder.get(builder) as number)),
          },
        ],
  );
  if (links.length === 0) return inserted;
  const { rows: linked } = await sql<JobRow>`
    update jobs set depends_on = link.depends_on
    from json_to_recordset(${JSON.stringify(links)}::json) as link(id bigint, depends_on text)
    where jobs.id = link.id
    returning jobs.*`.execute(ctx.trx);
  const byId = new Map(linked.map((row) => [row.id, row]));
  return { push: inserted.push, jobs: inserted.jobs.map((row) => byId.get(row.id) ?? row) };
}
