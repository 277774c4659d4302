import type { Push } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, switchyardCommand, type TestServer } from '../helpers/processes.ts';

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: b, run: "sleep 0.3" }] }
  - { name: check, repo: demo, pool: linux, after: build, steps: [{ name: c, run: ./check.sh }] }
`;

describe('the answers', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let green: Push;
  let red: Push;
  let release: Push;

  beforeAll(async () => {
    farm.writeConfig(CONFIG);
    server = await startServer({ config: farm.config, data: farm.data });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const good = farm.commit('main', { 'check.sh': '#!/bin/sh\nexit 0\n' });
    green = await server.client.createPush({
      repo: 'demo',
      branch: 'main',
      revision: good,
      author: 'Ada <ada@example.org>',
    });
    await waitForPushFinal(server.client, green.id);
    const bad = farm.commit('main', { 'check.sh': '#!/bin/sh\nexit 1\n' });
    red = await server.client.createPush({ repo: 'demo', branch: 'main', revision: bad });
    await waitForPushFinal(server.client, red.id);
    release = await server.client.createPush({ repo: 'demo', branch: 'release/1.0', revision: good });
    await waitForPushFinal(server.client, release.id);
  }, 90_000);

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('answers the last green revision of a branch, and 404 when there is none', async () => {
    expect(await server.client.lastGreen('demo', 'main')).toMatchObject({
      revision: green.revision,
      push: green.id,
      author: 'Ada <ada@example.org>',
      jobs: 2,
    });
    expect((await server.client.lastGreen('demo', 'release/1.0')).push).toBe(release.id);
    await expect(server.client.lastGreen('demo', 'nowhere')).rejects.toMatchObject({ status: 404, code: 'not-found' });
    const cli = await switchyardCommand(['stats', 'last-green', 'demo', 'main', '--server', server.url]);
    expect(cli.code).toBe(0);
    expect(cli.output).toContain(`demo/main@${green.revision}`);
  });

  it('computes end-to-end times, waits, builder durations and rates, and utilisation from the history', async () => {
    const pushes = await server.client.pushTimes();
    expect(pushes.groups.map((g) => [g.branch, g.endToEnd.count])).toEqual([
      ['main', 2],
      ['release/1.0', 1],
    ]);
    expect(pushes.recent.map((r) => r.push)).toEqual([release.id, red.id, green.id]);
    for (const recent of pushes.recent) expect(recent.endToEndMs).toBeGreaterThanOrEqual(300);

    const builders = await server.client.builderStats();
    const check = builders.builders.find((b) => b.builder === 'check');
    expect(check).toMatchObject({ runs: 3, counts: { success: 2, failure: 1, exception: 0 }, failureRate: 0.3333 });
    const build = builders.builders.find((b) => b.builder === 'build');
    expect(build?.duration.medianMs).toBeGreaterThanOrEqual(300);
    expect(builders.builders[0]?.builder).toBe('build');

    const waits = await server.client.waitTimes();
    expect(waits.pools.map((p) => [p.pool, p.wait.count])).toEqual([['linux', 6]]);

    const workers = await server.client.workerUtilisation();
    const w1 = workers.workers.find((w) => w.name === 'w1');
    expect(w1?.attempts).toBe(6);
    expect(w1?.utilisation).toBeGreaterThan(0);
    expect(w1?.utilisation).toBeLessThanOrEqual(1);
    expect(await server.client.builderStats({ builder: 'check', days: 1 })).toMatchObject({
      builders: [{ builder: 'check' }],
    });
  });

  it('prints the answers as tables and exposes them in /metrics', async () => {
    const table = await switchyardCommand(['stats', 'builders', '--server', server.url]);
    expect(table.code).toBe(0);
    expect(table.output).toMatch(/BUILDER\s+RUNS\s+MEDIAN\s+P90\s+TREND\s+FAILURES\s+EXCEPTIONS/);
    expect(table.output).toMatch(/check\s+3\s.*33\.3 %\s+0\.0 %/);
    const json = await switchyardCommand(['stats', 'waits', '--json', '--server', server.url]);
    expect(JSON.parse(json.output)).toMatchObject({ pools: [{ pool: 'linux', wait: { count: 6 } }] });
    const bad = await switchyardCommand(['stats', 'pushes', '--days', '0', '--server', server.url]);
    expect(bad.code).not.toBe(0);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_builder_outcome_ratio\{builder="check",outcome="failure"\} 0\.3333/);
    expect(metrics).toMatch(/switchyard_push_end_to_end_seconds\{repo="demo",branch="main",stat="median"\} [0-9.]+/);
    expect(metrics).toMatch(/switchyard_wait_seconds\{pool="linux",stat="p90"\} [0-9.]+/);
    expect(metrics).toMatch(/switchyard_last_green_timestamp_seconds\{repo="demo",branch="main"\} [0-9.]+/);
    expect(metrics).toMatch(/switchyard_worker_utilisation_ratio\{worker="w1",pool="linux"\} [0-9.]+/);
  });

  it('lists every route of the API in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      paths: Record<string, object>;
    };
    for (const path of [
      '/api/v1/events/ws',
      '/api/v1/schemas/events',
      '/api/v1/schemas/events/{file}',
      '/api/v1/subscriptions',
      '/api/v1/subscriptions/{id}',
      '/api/v1/subscriptions/{id}/deliveries',
      '/api/v1/subscriptions/{id}/deliveries/{delivery}/redeliver',
      '/api/v1/repos/{repo}/branches/{branch}/last-green',
      '/api/v1/stats/pushes',
      '/api/v1/stats/waits',
      '/api/v1/stats/builders',
      '/api/v1/stats/workers',
    ]) {
      expect(document.paths, path).toHaveProperty([path]);
    }
  });
});
