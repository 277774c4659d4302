import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMar,
  createTestKeys,
  makePeFile,
  startTestSigner,
  TEST_KEY_IDS,
  type TestKeys,
  type TestSigner,
} from '../src/testing/index.ts';
import { readMarPerSpec } from './helpers/mar-spec-reader.ts';
import { bzip2LikeFirefox, opensslVerifies, scratch, xzLikeFirefox } from './helpers/tools.ts';

let dir: string;
let keys: TestKeys;
let signer: TestSigner;

beforeAll(async () => {
  dir = await scratch();
  keys = await createTestKeys(join(dir, 'keys'));
  signer = await startTestSigner({ dir, keys });
});
afterAll(async () => {
  await signer?.close();
  await rm(dir, { recursive: true, force: true });
});

async function releaseMar() {
  return buildMar({
    productInfo: { channel: 'release', version: '128.0' },
    entries: [
      {
        name: 'updatev3.manifest',
        flags: 0o664,
        data: await xzLikeFirefox(Buffer.from('type "complete"\nadd "firefox.exe"\n')),
      },
      { name: 'firefox.exe', flags: 0o755, data: await xzLikeFirefox(makePeFile(Buffer.alloc(20_000, 0x90))) },
      {
        name: 'defaults/pref/channel-prefs.js',
        flags: 0o644,
        data: await bzip2LikeFirefox(Buffer.from('pref("app.update.channel", "release");\n')),
      },
    ],
  });
}

describe('mar', () => {
  it('signs with algorithm 2 (RSA-PKCS1-SHA384, 4096-bit), keeping the product information block and the entries', async () => {
    const input = await releaseMar();
    const { output, result } = await signer.client(['mar']).signFile('mar', TEST_KEY_IDS.mar, input);
    expect(result.cache).toBe('miss');

    const before = readMarPerSpec(input);
    const after = readMarPerSpec(output);
    expect(after.oldFormat).toBe(false);
    expect(after.signatures.map((s) => [s.algorithm, s.signature.length])).toEqual([[2, 512]]);
    // Firefox pads the product information to 96 bytes: the block is kept as it was, padding and all.
    expect(after.sections).toEqual([{ id: 1, blockSize: 104, payload: before.sections[0]?.payload }]);
    expect(after.sections[0]?.payload.toString('latin1').split('\0').slice(0, 2)).toEqual(['release', '128.0']);
    expect(after.entries.map(({ name, flags, data }) => ({ name, flags, data }))).toEqual(
      before.entries.map(({ name, flags, data }) => ({ name, flags, data })),
    );
    const signature = after.signatures[0]?.signature as Buffer;
    expect(await opensslVerifies(keys.marPublicKey, 'sha384', after.signedBytes, signature)).toBe(true);
    expect(await opensslVerifies(keys.oldMarPublicKey, 'sha384', after.signedBytes, signature)).toBe(false);
  });

  it('signs with algorithm 1 (SHA-1) for an old 2048-bit key', async () => {
    const { output } = await signer.client(['mar']).signFile('mar', TEST_KEY_IDS.oldMar, await releaseMar());
    const mar = readMarPerSpec(output);
    expect(mar.signatures.map((s) => [s.algorithm, s.signature.length])).toEqual([[1, 256]]);
    expect(
      await opensslVerifies(keys.oldMarPublicKey, 'sha1', mar.signedBytes, mar.signatures[0]?.signature as Buffer),
    ).toBe(true);
  });

  it('reads an old-format MAR and writes it signed in the new format', async () => {
    const data = await bzip2LikeFirefox(Buffer.from('old school\n'));
    const input = buildMar({ format: 'old', entries: [{ name: 'readme.txt', flags: 0o644, data }] });
    expect(readMarPerSpec(input).oldFormat).toBe(true);
    const { output } = await signer.client(['mar']).signFile('mar', TEST_KEY_IDS.mar, input);
    const mar = readMarPerSpec(output);
    expect(mar.oldFormat).toBe(false);
    expect(mar.sections).toEqual([]);
    expect(mar.entries.map((e) => [e.name, e.flags, e.data])).toEqual([['readme.txt', 0o644, data]]);
    expect(
      await opensslVerifies(keys.marPublicKey, 'sha384', mar.signedBytes, mar.signatures[0]?.signature as Buffer),
    ).toBe(true);
  });

  it('replaces the signatures of a MAR signed before, so only the new one is present and valid', async () => {
    const client = signer.client(['mar']);
    const once = (await client.signFile('mar', TEST_KEY_IDS.oldMar, await releaseMar())).output;
    const twice = readMarPerSpec((await client.signFile('mar', TEST_KEY_IDS.mar, once)).output);
    expect(twice.signatures.map((s) => s.algorithm)).toEqual([2]);
    expect(
      await opensslVerifies(keys.marPublicKey, 'sha384', twice.signedBytes, twice.signatures[0]?.signature as Buffer),
    ).toBe(true);
  });

  it('answers a second request for the same input from the cache, without the body', async () => {
    const input = await releaseMar();
    const client = signer.client(['mar']);
    const first = await client.signFile('mar', TEST_KEY_IDS.mar, input);
    const second = await client.signFile('mar', TEST_KEY_IDS.mar, input);
    expect(second.uploaded).toBe(false);
    expect(second.result.cache).toBe('hit');
    expect(second.output.equals(first.output)).toBe(true);
  });
});
