/**
 * The reads a running farm makes for every job use the partial indexes made for them, on both
 * databases, in the plan PostgreSQL keeps for a prepared statement after its fifth run (the
 * generic plan, which cannot know a bound value). Each case runs a verb on a store whose
 * statements are recorded, then asks the database how it would run each of them.
 */
import SqliteDatabase from 'better-sqlite3';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryId,
  RootOperationNode,
} from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCommits } from './commit-signal.ts';
import { claimJob, finish, LEASE, push } from './contract/builders.ts';
import { type ContractContext, FARM_YAML, farmFrom, TestClock } from './contract/harness.ts';
import { openDatabase } from './open-database.ts';
import { createSqlFarmStore } from './sql-farm-store.ts';
import { createEmptyDatabase, DIALECTS, TEST_POSTGRES_URL } from './test-database.ts';

/**
 * Keeps the statements a store sends, as their query trees, to be compiled and explained later.
 * A builder used inside another statement is transformed too, but only a statement that was sent
 * has a result.
 */
class RecordedStatements implements KyselyPlugin {
  private readonly transformed = new WeakMap<QueryId, RootOperationNode>();
  readonly sent: RootOperationNode[] = [];

  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    this.transformed.set(queryId, node);
    return node;
  }

  async transformResult({ result, queryId }: PluginTransformResultArgs) {
    const node = this.transformed.get(queryId);
    if (node) this.sent.push(node);
    return result;
  }
}

/** Asks the database how it would run a statement: the plan's text, index names included. */
type Explain = (text: string, parameters: readonly unknown[]) => Promise<string>;

async function postgresExplain(schema: string): Promise<{ explain: Explain; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  await client.query(`set search_path = ${schema}`);
  // The plan a prepared statement ends up with; and no sequential scan of a table too small to
  // need an index hides whether the index could serve.
  await client.query('set plan_cache_mode = force_generic_plan');
  await client.query('set enable_seqscan = off');
  return {
    async explain(text, parameters) {
      await client.query(`prepare recorded as ${text}`);
      try {
        const values = parameters.length > 0 ? `(${parameters.map(() => 'null').join(', ')})` : '';
        const rows = await client.query<{ 'QUERY PLAN': string }>(`explain execute recorded${values}`);
        return rows.rows.map((row) => row['QUERY PLAN']).join('\n');
      } finally {
        await client.query('deallocate recorded');
      }
    },
    close: () => client.end(),
  };
}

function sqliteExplain(file: string): { explain: Explain; close(): Promise<void> } {
  const sqlite = new SqliteDatabase(file, { readonly: true });
  return {
    async explain(text, parameters) {
      const rows = sqlite.prepare(`explain query plan ${text}`).all(...parameters) as { detail: string }[];
      return rows.map((row) => row.detail).join('\n');
    },
    close: async () => {
      sqlite.close();
    },
  };
}

describe.each(DIALECTS)('the hot reads use their partial indexes (%s)', (dialect) => {
  const recorded = new RecordedStatements();
  const clock = new TestClock();
  let t: ContractContext;
  let plansOf: (work: () => Promise<unknown>) => Promise<string>;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    let explainer: { explain: Explain; close(): Promise<void> };
    const { target, remove } = await createEmptyDatabase(dialect);
    cleanup.push(remove);
    const { db } = await openDatabase(target);
    cleanup.unshift(() => db.destroy());
    if (dialect === 'sqlite') explainer = sqliteExplain(target);
    else explainer = await postgresExplain(new URL(target).searchParams.get('schema') as string);
    cleanup.unshift(() => explainer.close());
    const commits = new LocalCommits();
    const store = createSqlFarmStore({
      db: db.withPlugin(recorded),
      dialect,
      commits,
      logAppends: commits,
      agingMs: () => 0,
      clock: clock.read,
    });
    const farm = farmFrom(FARM_YAML);
    t = {
      dialect,
      store,
      clock,
      farm,
      openAnother: () => Promise.reject(new Error('one store is enough here')),
    };
    const executor = db.getExecutor();
    plansOf = async (work) => {
      recorded.sent.length = 0;
      await work();
      const plans: string[] = [];
      for (const node of recorded.sent.splice(0)) {
        const compiled = executor.compileQuery(node, { queryId: 'explained' });
        plans.push(await explainer.explain(compiled.sql, compiled.parameters));
      }
      return plans.join('\n');
    };
  });

  afterAll(async () => {
    for (const step of cleanup) await step();
  });

  it('a matching round reads the pool’s queue in order from jobs_queue', async () => {
    await push(t);
    expect(await plansOf(() => claimJob(t, 'w1'))).toContain('jobs_queue');
  });

  it('a success reads the builder’s latest successes from jobs_succeeded_by_builder', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w2');
    expect(await plansOf(() => finish(t, attemptId, 'success'))).toContain('jobs_succeeded_by_builder');
  });

  it('the lease reaper finds expired attempts through attempts_running_by_lease', async () => {
    await push(t);
    await claimJob(t, 'w3');
    clock.advance(LEASE.leaseMs * 2);
    expect(await plansOf(() => t.store.jobs.expireLeases())).toContain('attempts_running_by_lease');
  });

  it('the compaction sweep finds logs still in chunks through steps_log_not_compacted', async () => {
    expect(await plansOf(() => t.store.logs.attemptsWithRawLogs())).toContain('steps_log_not_compacted');
  });
});
