import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SwitchyardClient, SwitchyardEvent } from '@switchyard/protocol';
import { buildMar, createTestKeys, type TestKeys, writeTestSignerConfig } from '@switchyard/signing/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMarPerSpec } from '../../packages/signing/test/helpers/mar-spec-reader.ts';
import { opensslVerifies } from '../../packages/signing/test/helpers/tools.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import {
  freePort,
  killAll,
  runSwitchyard,
  SWITCHYARD_BIN,
  startServer,
  startWorker,
  type TestServer,
} from '../helpers/processes.ts';

const run = promisify(execFile);

/**
 * A release job signs what it built through a real signer: the coordinator mints the attempt a
 * signing token for its builder's formats, the worker's sign step asks by digest, uploads on a
 * miss, and writes the signed files before the upload step; the job's own steps can use the
 * token too, for those formats only.
 */
describe('jobs sign their files with the signing service', () => {
  const farm = new TestFarm();
  let keys: TestKeys;
  let server: TestServer;
  let client: SwitchyardClient;
  const unsignedMar = buildMar({
    entries: [{ name: 'update/app.txt', flags: 0o644, data: Buffer.from('the new version\n') }],
    productInfo: { channel: 'release', version: '140.0' },
  });

  beforeAll(async () => {
    keys = await createTestKeys(join(farm.dir, 'keys'));
    const signerDir = mkdtempSync(join(farm.dir, 'signer-'));
    const { file: signerConfig, env: signerEnv } = await writeTestSignerConfig({ dir: signerDir, keys });
    const signerPort = await freePort();
    const signer = runSwitchyard(
      ['signer', '--config', signerConfig, '--listen', `127.0.0.1:${signerPort}`],
      signerEnv,
    );
    for (let tries = 0; !signer.output().includes('listening on'); tries++) {
      if (tries > 300 || signer.child.exitCode !== null)
        throw new Error(`the signer did not start:\n${signer.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    farm.commit('main', { 'app.bin': 'the application\n' });
    writeFileSync(join(farm.work, 'update.mar'), unsignedMar);
    farm.commit('main', {}, 'add the update');
    const config = farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
signing:
  url: http://127.0.0.1:${signerPort}
  secret: { id: test-2026, env: SWITCHYARD_TEST_SIGNING_SECRET }
builders:
  - name: release
    repo: demo
    pool: linux
    branches: [main]
    max_attempts: 1
    steps:
      - { name: package, run: "mkdir -p dist && cp app.bin update.mar dist/" }
    sign:
      - { files: dist/app.bin, format: gpg, key: release-gpg }
      - { files: "dist/*.mar", format: mar, key: release-mar }
    artifacts: [dist/app.bin.asc, dist/update.mar]
  - name: overreach
    repo: demo
    pool: linux
    branches: [main]
    max_attempts: 1
    steps:
      - name: sign-another-format
        run: node ${SWITCHYARD_BIN} sign --format mar --key release-mar update.mar
    sign:
      - { files: app.bin, format: gpg, key: release-gpg }
`);
    server = await startServer({ config, data: farm.data, env: signerEnv });
    client = server.client;
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('signs after the steps, before the uploads, and says so in signing.finished', async () => {
    const push = await client.createPush({ repo: 'demo', branch: 'main', revision: farm.commit('main', {}) });
    const final = await waitForPushFinal(client, push.id, 90_000);
    const release = final.jobs.find((job) => job.builder === 'release');
    expect(release?.state).toBe('success');

    const download = async (name: string) =>
      Buffer.from(await (await fetch(`${server.url}/api/v1/jobs/${release?.id}/artifacts/${name}`)).arrayBuffer());
    const signature = await download('app.bin.asc');
    const gpgHome = mkdtempSync(join(farm.dir, 'gnupg-'));
    await run('gpg', ['--homedir', gpgHome, '--batch', '--import', keys.openPgpPublicKey]);
    writeFileSync(join(gpgHome, 'app.bin'), 'the application\n');
    writeFileSync(join(gpgHome, 'app.bin.asc'), signature);
    await run('gpg', [
      '--homedir',
      gpgHome,
      '--batch',
      '--verify',
      join(gpgHome, 'app.bin.asc'),
      join(gpgHome, 'app.bin'),
    ]);

    const mar = readMarPerSpec(await download('update.mar'));
    expect(mar.signatures).toHaveLength(1);
    const marSignature = mar.signatures[0]?.signature as Buffer;
    expect(await opensslVerifies(keys.marPublicKey, 'sha384', mar.signedBytes, marSignature)).toBe(true);

    const log = await (await fetch(`${server.url}/api/v1/jobs/${release?.id}/log`)).text();
    expect(log).toMatch(/dist\/app\.bin: gpg with release-gpg, signed/);
    expect(log).toMatch(/dist\/update\.mar: mar with release-mar, signed/);

    const events = await collectEvents(client, (seen) => seen.length > 0, { types: ['signing.finished'] });
    const [finished] = events as SwitchyardEvent<'signing.finished'>[];
    expect(finished?.data).toMatchObject({
      job: { id: release?.id },
      attempt: 1,
      signing: { files: 2, formats: ['gpg', 'mar'], cacheHits: 0 },
    });
  });

  it("refuses a step's request for a format its builder does not sign, and keeps the token out of the log", async () => {
    const push = await client.createPush({ repo: 'demo', branch: 'main', revision: farm.commit('main', {}) });
    const final = await waitForPushFinal(client, push.id, 90_000);
    const overreach = final.jobs.find((job) => job.builder === 'overreach');
    expect(overreach?.state).toBe('failure');
    const log = await (await fetch(`${server.url}/api/v1/jobs/${overreach?.id}/log`)).text();
    expect(log).toMatch(/mar/);
    expect(log).toMatch(/not allow|may not|forbidden/i);
    expect(log).not.toMatch(/sy1\.[A-Za-z0-9_-]{20,}/);
  });
});
