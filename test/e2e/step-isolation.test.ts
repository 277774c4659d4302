import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchyardClient } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const TOKENS = { T_WORKER: 'worker-secret-of-this-farm', T_CI: 'ci-secret-of-this-farm' };

/**
 * What a hostile build step tried in the sweep that found the hole: read the worker's token
 * from its parent's environment, then report other jobs as green and replace their artifacts.
 */
const ATTACK = `
const [server, token, victimJob] = process.argv.slice(2);
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
for (let attempt = 1; attempt <= 4; attempt++) {
  const response = await fetch(server + '/api/v1/attempts/' + attempt + '/finished', {
    method: 'POST',
    headers,
    body: JSON.stringify({ result: 'success', finishedAt: new Date().toISOString() }),
  });
  console.log('finish attempt ' + attempt + ': ' + response.status);
}
const upload = await fetch(server + '/api/v1/jobs/' + victimJob + '/artifacts/app.tar', {
  method: 'PUT',
  headers: { authorization: 'Bearer ' + token, 'content-type': 'application/octet-stream' },
  body: 'poisoned',
});
console.log('upload: ' + upload.status);
`;

const STEAL_TOKEN = `tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^SWITCHYARD_TOKEN=//p'`;

describe('a build step cannot act as its worker', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let ci: SwitchyardClient;
  const started = join(farm.dir, 'victim-started');
  const release = join(farm.dir, 'victim-release');
  const victimJob = join(farm.dir, 'victim-job');

  beforeAll(async () => {
    // A step run as another user must be able to reach its directory under this one.
    chmodSync(farm.dir, 0o755);
    farm.commit('main', { 'attack.mjs': ATTACK, README: 'isolation\n' });
    const config = farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
auth:
  public_read: false
  tokens:
    - { name: linux-workers, env: T_WORKER, scopes: [worker] }
    - { name: ci, env: T_CI, scopes: [push, read] }
builders:
  - name: victim
    repo: demo
    pool: linux
    branches: [main]
    max_attempts: 1
    artifacts: [{ path: app.tar, optional: true }]
    steps:
      - name: wait
        run: 'touch ${started}; while [ ! -e ${release} ]; do sleep 0.1; done; exit 1'
  - name: attacker
    repo: demo
    pool: linux
    branches: [main]
    max_attempts: 1
    steps:
      - name: attack
        run: >-
          while [ ! -e ${started} ] || [ ! -e ${victimJob} ]; do sleep 0.1; done;
          token=$(${STEAL_TOKEN});
          echo "stolen: $(printf %s "$token" | wc -c) bytes";
          node attack.mjs "$SERVER" "$token" "$(cat ${victimJob})"; touch ${release}
  - name: isolated
    repo: demo
    pool: isolated
    branches: [isolated]
    max_attempts: 1
    artifacts: [who.txt]
    steps:
      - name: build
        run: >-
          id -u > who.txt;
          if cat /proc/$PPID/environ > /dev/null 2>&1; then echo "worker environment: readable"; else echo "worker environment: unreadable"; fi
`);
    server = await startServer({ config, data: farm.data, env: TOKENS, token: TOKENS.T_CI });
    ci = new SwitchyardClient({ server: server.url, token: TOKENS.T_CI });
    for (const name of ['w1', 'w2']) {
      startWorker({
        server: server.url,
        name,
        pool: 'linux',
        workDir: farm.workerDir(name),
        env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER, SERVER: server.url },
      });
    }
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it("a step that reads the worker's token can neither report another job nor replace its artifacts", async () => {
    const push = await ci.createPush({ repo: 'demo', branch: 'main', revision: farm.commit('main', {}) });
    const victim = push.jobs.find((job) => job.builder === 'victim');
    // A step could find it in the API or guess it; handing it over keeps the test to the point.
    writeFileSync(victimJob, String(victim?.id));
    const final = await waitForPushFinal(ci, push.id, 60_000);
    const victimFinal = final.jobs.find((job) => job.builder === 'victim');
    const attacker = final.jobs.find((job) => job.builder === 'attacker');
    expect(victimFinal?.state).toBe('failure');
    expect(attacker?.state).toBe('success');
    const log = await (await fetch(`${server.url}/api/v1/jobs/${attacker?.id}/log`, { headers: auth() })).text();
    expect(log).toMatch(/stolen: [1-9]\d* bytes/);
    const statuses = [...log.matchAll(/(?:finish attempt \d|upload): (\d{3})/g)].map((match) => match[1]);
    expect(statuses).toHaveLength(5);
    expect(new Set(statuses)).toEqual(new Set(['401']));
    expect((await ci.listArtifacts(victimFinal?.id as number)).map((artifact) => artifact.name)).toEqual([]);
  });

  it('with --run-as, steps run as that user and cannot read the worker environment', async () => {
    startWorker({
      server: server.url,
      name: 'isolated-1',
      pool: 'isolated',
      workDir: farm.workerDir('isolated-1'),
      env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER, SWITCHYARD_RUN_AS: 'nobody' },
    });
    const push = await ci.createPush({ repo: 'demo', branch: 'isolated', revision: farm.commit('isolated', {}) });
    const final = await waitForPushFinal(ci, push.id, 60_000);
    const job = final.jobs[0];
    expect(job?.state).toBe('success');
    const log = await (await fetch(`${server.url}/api/v1/jobs/${job?.id}/log`, { headers: auth() })).text();
    expect(log).toContain('worker environment: unreadable');
    const who = await fetch(`${server.url}/api/v1/jobs/${job?.id}/artifacts/who.txt`, { headers: auth() });
    expect((await who.text()).trim()).not.toBe('0');
    expect(existsSync(farm.workerDir('isolated-1'))).toBe(true);
  });

  function auth() {
    return { authorization: `Bearer ${TOKENS.T_CI}` };
  }
});
