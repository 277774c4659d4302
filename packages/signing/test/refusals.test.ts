import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiRequestError } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignerClient } from '../src/client/signer-client.ts';
import { buildMar, createTestKeys, startTestSigner, TEST_KEY_IDS, type TestSigner } from '../src/testing/index.ts';
import { mintSigningToken } from '../src/token/signing-token.ts';
import { scratch, xzLikeFirefox } from './helpers/tools.ts';

let dir: string;
let signer: TestSigner;
let validMar: Buffer;

beforeAll(async () => {
  dir = await scratch();
  const keys = await createTestKeys(join(dir, 'keys'));
  signer = await startTestSigner({ dir, keys, maxUploadSize: '1MiB' });
  validMar = buildMar({
    productInfo: { channel: 'release', version: '128.0' },
    entries: [{ name: 'updatev3.manifest', flags: 0o644, data: await xzLikeFirefox(Buffer.from('add "x"\n')) }],
  });
});
afterAll(async () => {
  await signer?.close();
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const stored = async () => (await readdir(join(dir, 'cache', 'entries'))).length;

async function uploadBytes(): Promise<number> {
  const text = await (await fetch(`${signer.url}/metrics`)).text();
  return Number(/^switchyard_signer_upload_bytes_total (\d+)/m.exec(text)?.[1]);
}

/** Uploads with Expect: 100-continue and returns the refusal, whether the body went, and what was stored. */
async function refusal(
  client: SignerClient,
  format: 'mar' | 'mar-contents' | 'gpg',
  keyId: string,
  body: Buffer,
  name = sha256(body),
) {
  const storedBefore = await stored();
  const bytesBefore = await uploadBytes();
  const error = await client.upload(format, keyId, name, body).then(
    (answer) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(answer)}`);
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ApiRequestError);
  const bodySent = (await uploadBytes()) > bytesBefore;
  expect(await stored()).toBe(storedBefore);
  return { error: error as ApiRequestError, bodySent };
}

describe('refusals', () => {
  it('a tampered MAR: 400 after the upload, saying what is wrong, nothing stored', async () => {
    const tampered = Buffer.from(validMar);
    tampered.writeUInt32BE(tampered.readUInt32BE(12) + 1, 12);
    const { error } = await refusal(signer.client(['mar']), 'mar', TEST_KEY_IDS.mar, tampered);
    expect([error.status, error.code]).toEqual([400, 'invalid-request']);
    expect(error.message).toMatch(/not a valid MAR: the header says \d+ bytes but the file has \d+/);
  });

  it('a body that is not the content its URL names: 400 digest-mismatch, nothing stored', async () => {
    const { error } = await refusal(
      signer.client(['mar']),
      'mar',
      TEST_KEY_IDS.mar,
      validMar,
      sha256(Buffer.from('other')),
    );
    expect([error.status, error.code]).toEqual([400, 'digest-mismatch']);
  });

  it('a key not allowed for the format: 403 before the body', async () => {
    const { error, bodySent } = await refusal(
      signer.client(['mar-contents']),
      'mar-contents',
      TEST_KEY_IDS.oldMar,
      validMar,
    );
    expect([error.status, error.code, bodySent]).toEqual([403, 'forbidden', false]);
    expect(error.message).toBe('key "old-mar" is not allowed for mar-contents (it signs mar)');
  });

  it('a key the signer does not have: 404 before the body', async () => {
    const { error, bodySent } = await refusal(signer.client(['mar']), 'mar', 'no-such-key', validMar);
    expect([error.status, error.code, bodySent]).toEqual([404, 'not-found', false]);
  });

  it('an expired token: 401 before the body, the token not quoted', async () => {
    const token = mintSigningToken({
      secret: signer.secret,
      job: 3,
      attempt: 1,
      formats: ['mar'],
      ttlSeconds: 60,
      now: Date.now() - 120_000,
    });
    const { error, bodySent } = await refusal(new SignerClient(signer.url, token), 'mar', TEST_KEY_IDS.mar, validMar);
    expect([error.status, error.code, bodySent]).toEqual([401, 'unauthenticated', false]);
    expect(error.message).toMatch(/expired/);
    expect(JSON.stringify(error)).not.toContain(token.split('.')[2]);
  });

  it('a token made with a secret the signer does not hold: 401', async () => {
    const token = mintSigningToken({
      secret: { id: 'test-2026', key: Buffer.alloc(32, 1) },
      job: 3,
      attempt: 1,
      formats: ['mar'],
      ttlSeconds: 60,
    });
    const { error, bodySent } = await refusal(new SignerClient(signer.url, token), 'mar', TEST_KEY_IDS.mar, validMar);
    expect([error.status, bodySent]).toEqual([401, false]);
    expect(error.message).toMatch(/valid signature/);
  });

  it('a token for another format: 403 before the body, naming the job and what it allows', async () => {
    const { error, bodySent } = await refusal(signer.client(['gpg']), 'mar', TEST_KEY_IDS.mar, validMar);
    expect([error.status, error.code, bodySent]).toEqual([403, 'forbidden', false]);
    expect(error.message).toBe('the token of job 1 attempt 1 allows gpg, not mar');
  });

  it('no token at all: 401 before the body', async () => {
    const { error, bodySent } = await refusal(new SignerClient(signer.url, ''), 'mar', TEST_KEY_IDS.mar, validMar);
    expect([error.status, bodySent]).toEqual([401, false]);
  });

  it('a too-large upload: 413 from its Content-Length, before the body', async () => {
    const large = Buffer.alloc(2 * 1024 * 1024, 7);
    const { error, bodySent } = await refusal(signer.client(['mar']), 'mar', TEST_KEY_IDS.mar, large);
    expect([error.status, error.code, bodySent]).toEqual([413, 'payload-too-large', false]);
    expect(error.details).toEqual({ limit: 1024 * 1024 });
  });

  it('a too-large upload without Expect (as fetch sends it) is refused the same way', async () => {
    const storedBefore = await stored();
    const large = Buffer.alloc(2 * 1024 * 1024, 7);
    const response = await fetch(`${signer.url}/api/v1/sign/mar/${TEST_KEY_IDS.mar}/${sha256(large)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${signer.token(['mar'])}` },
      body: large,
    });
    expect(response.status).toBe(413);
    expect(await stored()).toBe(storedBefore);
  });

  it('a file the signer signed before is answered before its body', async () => {
    const client = signer.client(['mar']);
    const first = await client.upload('mar', TEST_KEY_IDS.mar, sha256(validMar), validMar);
    const bytesBefore = await uploadBytes();
    const again = await client.upload('mar', TEST_KEY_IDS.mar, sha256(validMar), validMar);
    expect(again.bodySent).toBe(false);
    expect(await uploadBytes()).toBe(bytesBefore);
    expect(again.result).toEqual({ ...first.result, cache: 'hit' });
  });

  it('never shows a token or a secret in the metrics', async () => {
    const token = signer.token(['mar']);
    await signer.client(['mar']).lookup('mar', TEST_KEY_IDS.mar, sha256(validMar));
    const metrics = await (await fetch(`${signer.url}/metrics`)).text();
    expect(metrics).not.toContain(token.split('.')[2]);
    expect(metrics).not.toContain(signer.env.SWITCHYARD_TEST_SIGNING_SECRET);
  });
});
