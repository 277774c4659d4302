import { type DatabaseKind, TestDatabases } from '../test/helpers/databases.ts';
import { TestFarm } from '../test/helpers/farm.ts';
import { startServer } from '../test/helpers/processes.ts';

/**
 * A coordinator with one builder whose jobs do nothing (no checkout, `true`), in pool `bench`,
 * on SQLite or on a fresh PostgreSQL schema, and the revision to push: what the throughput and
 * claim benches measure the farm itself with. `remove` throws the farm and its database away.
 */
export async function startTrivialFarm(database: DatabaseKind = 'sqlite') {
  const farm = new TestFarm();
  farm.writeConfig(`
repos: [{ name: bench, url: $REPO }]
builders:
  - { name: trivial, repo: bench, pool: bench, checkout: false, steps: [{ name: t, run: "true" }] }
`);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const databases = new TestDatabases(database);
  const server = await startServer({ config: farm.config, data: farm.data, database: await databases.fresh() });
  const remove = async () => {
    await databases.dropAll();
    farm.remove();
  };
  return { farm, revision, server, remove };
}
