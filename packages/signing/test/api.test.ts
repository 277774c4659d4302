import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignerClient } from '../src/client/signer-client.ts';
import { loadSignerConfig } from '../src/config/load-signer-config.ts';
import { type RunningSigner, startSigner } from '../src/signer.ts';
import { createTestKeys, TEST_KEY_IDS, writeTestSignerConfig } from '../src/testing/index.ts';
import { mintSigningToken, type TokenSecret } from '../src/token/signing-token.ts';
import { scratch } from './helpers/tools.ts';

let dir: string;
let signer: RunningSigner;
let secret: TokenSecret;
let secretText: string;
const logLines: string[] = [];

beforeAll(async () => {
  dir = await scratch();
  const keys = await createTestKeys(join(dir, 'keys'));
  const { file, env } = await writeTestSignerConfig({ dir, keys });
  secretText = env.SWITCHYARD_TEST_SIGNING_SECRET as string;
  const config = await loadSignerConfig(file, env);
  secret = config.secrets[0] as TokenSecret;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  signer = await startSigner({
    config,
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'debug' }, sink),
  });
});
afterAll(async () => {
  await signer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the signer API', () => {
  it('logs each signature with its job and attempt, and never a token or a secret', async () => {
    const token = mintSigningToken({ secret, job: 77, attempt: 3, formats: ['gpg'], ttlSeconds: 60 });
    await new SignerClient(signer.url, token).signFile('gpg', TEST_KEY_IDS.gpg, Buffer.from('release notes'));
    const expired = mintSigningToken({
      secret,
      job: 77,
      attempt: 3,
      formats: ['gpg'],
      ttlSeconds: 1,
      now: Date.now() - 10_000,
    });
    await expect(
      new SignerClient(signer.url, expired).signFile('gpg', TEST_KEY_IDS.gpg, Buffer.from('x')),
    ).rejects.toThrow();
    const signed = logLines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'signed');
    expect(signed).toMatchObject({ job: 77, attempt: 3, format: 'gpg', key: TEST_KEY_IDS.gpg, cache: 'miss' });
    const everything = logLines.join('');
    for (const part of [...token.split('.'), ...expired.split('.')].filter((p) => p !== 'sy1')) {
      expect(everything).not.toContain(part);
    }
    expect(everything).not.toContain(secretText);
  });

  it('describes itself in an OpenAPI document', async () => {
    const document = (await (await fetch(`${signer.url}/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(document.info.title).toBe('Switchyard signer API');
    const operations = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((o) => o.operationId),
    );
    expect(operations.sort()).toEqual([
      'getOutput',
      'listKeys',
      'lookupSigned',
      'sign',
      'signHash',
      'takeCpuProfile',
      'takeHeapSnapshot',
    ]);
  });

  it('publishes the public keys, never the private ones', async () => {
    const response = await fetch(`${signer.url}/api/v1/keys`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).not.toMatch(/PRIVATE/);
    const { keys } = JSON.parse(text) as {
      keys: { id: string; formats: string[]; marAlgorithm?: number; fingerprint: string }[];
    };
    expect(keys.map((key) => [key.id, key.formats, key.marAlgorithm ?? null])).toEqual([
      [TEST_KEY_IDS.mar, ['mar', 'mar-contents', 'hash'], 2],
      [TEST_KEY_IDS.oldMar, ['mar'], 1],
      [TEST_KEY_IDS.authenticode, ['authenticode'], null],
      [TEST_KEY_IDS.gpg, ['gpg'], null],
    ]);
  });

  it('fetches outputs only with a token', async () => {
    const digest = createHash('sha256').update('anything').digest('hex');
    expect((await fetch(`${signer.url}/api/v1/outputs/${digest}`)).status).toBe(401);
  });
});
