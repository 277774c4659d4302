import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
import {
  bunzip2,
  bzip2LikeFirefox,
  opensslVerifies,
  osslsigncodeVerify,
  scratch,
  unxz,
  xzLikeFirefox,
} from './helpers/tools.ts';

const run = promisify(execFile);

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

/** The binaries every locale shares. */
const binaries = {
  'firefox.exe': makePeFile(Buffer.alloc(30_000, 0x90)),
  'xul.dll': makePeFile(Buffer.alloc(50_000, 0xcc), { dll: true }),
  'updater.exe': makePeFile(Buffer.alloc(10_000, 0x41)),
};
const bz2Binary = makePeFile(Buffer.alloc(8_000, 0x42), { dll: true });

/**
 * An entry that announces xz but is not: decompressing it would fail, so a signature over a MAR
 * holding it proves it was never decompressed.
 */
function undecompressable(): Buffer {
  return Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04]), randomBytes(200)]);
}

async function localeMar(locale: string) {
  return buildMar({
    productInfo: { channel: 'release', version: '128.0' },
    entries: [
      ...(await Promise.all(
        Object.entries(binaries).map(async ([name, pe]) => ({ name, flags: 0o755, data: await xzLikeFirefox(pe) })),
      )),
      { name: 'mozavutil.dll', flags: 0o755, data: await bzip2LikeFirefox(bz2Binary) },
      { name: `localization/${locale}/browser.ftl`, flags: 0o644, data: undecompressable() },
      { name: `dictionaries/${locale}.dic`, flags: 0o644, data: undecompressable() },
      { name: 'updatev3.manifest', flags: 0o644, data: await xzLikeFirefox(Buffer.from(`locale ${locale}\n`)) },
    ],
  });
}

async function decompressions(): Promise<number> {
  const text = await (await fetch(`${signer.url}/metrics`)).text();
  return Number(/^switchyard_signer_entry_decompressions_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

async function xzSettings(data: Buffer): Promise<string> {
  const file = join(dir, `${randomBytes(4).toString('hex')}.xz`);
  await writeFile(file, data);
  return (await run('xz', ['--list', '-vv', file])).stdout;
}

describe('mar-contents', () => {
  it('signs only the .exe/.dll entries, recompressed as the MAR had them, and never decompresses the others', async () => {
    const input = await localeMar('de');
    const before = readMarPerSpec(input);
    const { output, result } = await signer.client(['mar-contents']).signFile('mar-contents', TEST_KEY_IDS.mar, input);
    expect(result.entries).toEqual({ signed: 4, compressedHits: 0, decompressedHits: 0, copied: 3 });
    expect(await decompressions()).toBe(4);

    const mar = readMarPerSpec(output);
    expect(mar.signatures.map((s) => s.algorithm)).toEqual([2]);
    expect(
      await opensslVerifies(keys.marPublicKey, 'sha384', mar.signedBytes, mar.signatures[0]?.signature as Buffer),
    ).toBe(true);
    expect(mar.sections).toEqual(before.sections.map(({ id, blockSize, payload }) => ({ id, blockSize, payload })));
    for (const [i, entry] of mar.entries.entries()) {
      const original = before.entries[i];
      expect([entry.name, entry.flags]).toEqual([original?.name, original?.flags]);
      if (!/\.(exe|dll)$/.test(entry.name)) {
        expect(entry.data.equals(original?.data as Buffer)).toBe(true);
        continue;
      }
      expect(entry.data.equals(original?.data as Buffer)).toBe(false);
      const bz2 = entry.name === 'mozavutil.dll';
      expect(entry.data.subarray(0, 4).toString('latin1')).toBe(bz2 ? 'BZh9' : '\xfd7zX');
      if (!bz2) {
        const settings = await xzSettings(entry.data);
        expect(settings).toMatch(/CRC64/);
        expect(settings).toMatch(/--x86 --lzma2/);
      }
      const signedPe = bz2 ? await bunzip2(entry.data) : await unxz(entry.data);
      expect(await osslsigncodeVerify(signedPe, keys.caCertificate)).toMatch(/Signature verification: ok/);
    }
  });

  it('serves a second locale sharing the binaries from the cache, entry by entry', async () => {
    const { result, output } = await signer
      .client(['mar-contents'])
      .signFile('mar-contents', TEST_KEY_IDS.mar, await localeMar('fr'));
    expect(result.cache).toBe('miss');
    expect(result.entries).toEqual({ signed: 0, compressedHits: 4, decompressedHits: 0, copied: 3 });
    expect(await decompressions()).toBe(4);
    const mar = readMarPerSpec(output);
    expect(mar.entries.map((e) => e.name)).toContain('localization/fr/browser.ftl');
    expect(
      await opensslVerifies(keys.marPublicKey, 'sha384', mar.signedBytes, mar.signatures[0]?.signature as Buffer),
    ).toBe(true);
  });

  it('falls back on the decompressed bytes: a binary signed before as authenticode is recompressed, not signed again', async () => {
    const installerBinary = makePeFile(Buffer.alloc(12_000, 0x55));
    await signer.client(['authenticode']).signFile('authenticode', TEST_KEY_IDS.authenticode, installerBinary);
    const input = buildMar({
      productInfo: { channel: 'release', version: '128.0' },
      entries: [{ name: 'maintenanceservice.exe', flags: 0o755, data: await xzLikeFirefox(installerBinary) }],
    });
    const { result } = await signer.client(['mar-contents']).signFile('mar-contents', TEST_KEY_IDS.mar, input);
    expect(result.entries).toEqual({ signed: 0, compressedHits: 0, decompressedHits: 1, copied: 0 });
  });

  it('refuses a MAR whose signable entry does not decompress, naming the entry, and stores nothing', async () => {
    const input = buildMar({ entries: [{ name: 'broken.dll', flags: 0o755, data: undecompressable() }] });
    await expect(
      signer.client(['mar-contents']).signFile('mar-contents', TEST_KEY_IDS.mar, input),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('broken.dll'),
    });
  });
});
