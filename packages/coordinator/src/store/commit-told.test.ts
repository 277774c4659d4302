/**
 * A write tells its commit signal that it is committing before its commit can be seen, and
 * releases it only once the commit has been told: the change feed, which may read the rows in
 * between, waits for that to know which rows this process committed.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load-config.ts';
import type { CommitRecorder } from './commit-signal.ts';
import { openDatabase } from './open-database.ts';
import type { Database } from './schema.ts';
import { Store } from './store.ts';
import { createEmptyDatabase, DIALECTS, type EmptyDatabase } from './test-database.ts';

const farm = parseConfig(
  'farm.yml',
  `repos: [{ name: demo, url: /x }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: s, run: "true" }] }
`,
);

describe.each(DIALECTS)('a write and its commit signal (%s)', (dialect) => {
  const calls: string[] = [];
  const recorder: CommitRecorder = {
    committing: () => {
      calls.push('committing');
      return () => calls.push('told');
    },
    committed: (write) => calls.push(`committed ${write.events.map((event) => event.type).join(',')}`),
  };
  let db: Kysely<Database>;
  let store: Store;
  let database: EmptyDatabase;

  beforeAll(async () => {
    database = await createEmptyDatabase(dialect);
    ({ db } = await openDatabase(database.target));
    store = new Store(db, recorder, () => 0);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.remove();
  });

  it('is committing from before its commit until the commit has been told', async () => {
    calls.length = 0;
    await store.createPush(farm, { repo: 'demo', branch: 'main', revision: 'abc' });
    expect(calls).toEqual(['committing', 'committed push.created,job.pending', 'told']);
  });

  it('is never committing when its work fails before the commit', async () => {
    calls.length = 0;
    await expect(
      store.write(async (ctx) => {
        await ctx.trx.selectFrom('jobs').select('id').execute();
        throw new Error('the verb refused');
      }),
    ).rejects.toThrow('the verb refused');
    expect(calls).toEqual([]);
  });
});
