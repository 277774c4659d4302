import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMar,
  createTestKeys,
  makePeFile,
  startTestSigner,
  TEST_KEY_IDS,
  type TestSigner,
} from '../src/testing/index.ts';
import { readMarPerSpec } from './helpers/mar-spec-reader.ts';
import { scratch, xzLikeFirefox } from './helpers/tools.ts';

let dir: string;
let signer: TestSigner;

beforeAll(async () => {
  dir = await scratch();
  const keys = await createTestKeys(join(dir, 'keys'));
  signer = await startTestSigner({ dir, keys, workers: 2 });
});
afterAll(async () => {
  await signer?.close();
  await rm(dir, { recursive: true, force: true });
});

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${signer.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function localeMar(locale: string, binary: Buffer) {
  return buildMar({
    productInfo: { channel: 'release', version: '128.0' },
    entries: [
      { name: 'firefox.exe', flags: 0o755, data: await xzLikeFirefox(binary) },
      { name: `localization/${locale}.ftl`, flags: 0o644, data: await xzLikeFirefox(Buffer.from(locale)) },
    ],
  });
}

describe('concurrency', () => {
  it('signs the same input asked for twice at once only once', async () => {
    const input = await localeMar('de', makePeFile(Buffer.alloc(40_000, 0x90)));
    const sha256 = createHash('sha256').update(input).digest('hex');
    const before = await metric('switchyard_signer_signatures_total', `{format="mar",key="${TEST_KEY_IDS.mar}"}`);
    const client = signer.client(['mar']);
    const answers = await Promise.all([
      client.upload('mar', TEST_KEY_IDS.mar, sha256, input),
      client.upload('mar', TEST_KEY_IDS.mar, sha256, input),
    ]);
    expect(answers.map((a) => a.result.cache).sort()).toEqual(['joined', 'miss']);
    expect(answers[0]?.result.output).toEqual(answers[1]?.result.output);
    expect(await metric('switchyard_signer_signatures_total', `{format="mar",key="${TEST_KEY_IDS.mar}"}`)).toBe(
      before + 1,
    );
  });

  it('does not refuse a request that joined another one whose body was not the content named', async () => {
    const input = await localeMar('nl', makePeFile(Buffer.alloc(20_000, 0x33)));
    const sha256 = createHash('sha256').update(input).digest('hex');
    const impostor = Buffer.alloc(input.length, 1);
    const client = signer.client(['mar']);
    const [wrong, right] = await Promise.allSettled([
      client.upload('mar', TEST_KEY_IDS.mar, sha256, impostor),
      client.upload('mar', TEST_KEY_IDS.mar, sha256, input),
    ]);
    expect(right.status).toBe('fulfilled');
    if (wrong.status === 'rejected') expect(wrong.reason).toMatchObject({ status: 400, code: 'digest-mismatch' });
  });

  it('signs several jobs at once, a shared binary once across them', async () => {
    const shared = makePeFile(Buffer.alloc(60_000, 0xcc));
    const locales = ['fr', 'it', 'ja', 'pl', 'pt-BR', 'zh-TW'];
    const inputs = await Promise.all(locales.map((locale) => localeMar(locale, shared)));
    const authenticodeBefore = await metric(
      'switchyard_signer_signatures_total',
      `{format="authenticode",key="${TEST_KEY_IDS.authenticode}"}`,
    );
    const results = await Promise.all(
      inputs.map((input, i) =>
        signer
          .client(['mar-contents'])
          .signFile('mar-contents', TEST_KEY_IDS.mar, input)
          .then((r) => [i, r] as const),
      ),
    );
    for (const [i, { output }] of results) {
      expect(readMarPerSpec(output).entries[1]?.name).toBe(`localization/${locales[i]}.ftl`);
    }
    const signed = results.reduce((sum, [, r]) => sum + (r.result.entries?.signed ?? 0), 0);
    expect(signed).toBe(1);
    expect(
      await metric('switchyard_signer_signatures_total', `{format="authenticode",key="${TEST_KEY_IDS.authenticode}"}`),
    ).toBe(authenticodeBefore + 1);
  });
});
