import { TestFarm } from '../test/helpers/farm.ts';
import { startServer } from '../test/helpers/processes.ts';

/**
 * A coordinator with one builder whose jobs do nothing (no checkout, `true`), in pool `bench`,
 * and the revision to push: what the throughput and claim benches measure the farm itself with.
 */
export async function startTrivialFarm() {
  const farm = new TestFarm();
  farm.writeConfig(`
repos: [{ name: bench, url: $REPO }]
builders:
  - { name: trivial, repo: bench, pool: bench, checkout: false, steps: [{ name: t, run: "true" }] }
`);
  const revision = farm.commit('main', { 'a.txt': 'a\n' });
  const server = await startServer({ config: farm.config, data: farm.data });
  return { farm, revision, server };
}
