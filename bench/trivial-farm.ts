import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DatabaseKind, TestDatabases } from '../test/helpers/databases.ts';
import { TestFarm } from '../test/helpers/farm.ts';
import { startServer, type TestServer } from '../test/helpers/processes.ts';

/**
 * A coordinator with one builder whose jobs do nothing (no checkout, `true`), in pool `bench`,
 * on SQLite or on a fresh PostgreSQL schema, and the revision to push: what the throughput and
 * claim benches measure the farm itself with. With `replicas` above 1 (PostgreSQL only), that
 * many coordinators share the schema, each with its own data directory. `location` is where the
 * farm's rows are (the schema's URL, or the first coordinator's SQLite file), for a bench that
 * looks at them; `remove` throws the farm and its database away.
 */
export async function startTrivialFarm(database: DatabaseKind = 'sqlite', replicas = 1) {
  if (replicas > 1 && database !== 'postgres') throw new Error('replicas share a PostgreSQL database');
  const farm = new TestFarm();
  farm.writeConfig(`
repos: [{ name: bench, url: $REPO }]
builders:
  - { name: trivial, repo: bench, pool: bench, checkout: false, steps: [{ name: t, run: "true" }] }
`);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const databases = new TestDatabases(database);
  const url = await databases.fresh();
  const servers: TestServer[] = [];
  for (let i = 0; i < replicas; i++) {
    const data = replicas === 1 ? farm.data : join(farm.dir, `replica-${i}`);
    mkdirSync(data, { recursive: true });
    servers.push(await startServer({ config: farm.config, data, database: url }));
  }
  const remove = async () => {
    await databases.dropAll();
    farm.remove();
  };
  const location = url ?? join(farm.data, 'switchyard.db');
  return { farm, revision, server: servers[0] as TestServer, servers, location, remove };
}
