/**
 * @module
 * Mozilla's release in small, for the signing benchmark: `locales` MARs of `entries` entries
 * each, compressed as Firefox packages them (xz, BCJ-x86, CRC64), in which `binaries` .exe/.dll
 * entries are the same in every locale and the rest are resources, most shared and some the
 * locale's own; plus an installer per locale. Built from a fixed seed, outside the timings.
 */
import { compress } from '../packages/signing/src/compression/codecs.ts';
import type { Compression } from '../packages/signing/src/compression/compression.ts';
import type { MarEntry } from '../packages/signing/src/mar/mar-file.ts';
import { buildMar, makePeFile } from '../packages/signing/src/testing/index.ts';
import { seededRandom } from './seeded-random.ts';

export const FIREFOX_XZ: Compression = { kind: 'xz', x86: true, check: 4, preset: 6 };

export interface ReleaseShape {
  locales: number;
  entries: number;
  binaries: number;
  binaryKib: number;
  installerKib: number;
}

export interface Locale {
  name: string;
  mar: Buffer;
  installer: Buffer;
}

export interface Release {
  locales: Locale[];
  /** The shared binaries, uncompressed: the unique signable bytes of the MARs. */
  binaries: Buffer[];
  marBytes: number;
}

/** Bytes that compress about as well as machine code (xz keeps roughly half). */
function codeLike(random: () => number, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at += 64) {
    const end = Math.min(size, at + 64);
    if (at >= 64 && random() < 0.45) {
      bytes.copy(bytes, at, at - 64 * (1 + Math.floor(random() * Math.min(8, at / 64))), at - 64 + (end - at));
      bytes[at + Math.floor(random() * (end - at))] = Math.floor(random() * 256);
    } else {
      for (let i = at; i < end; i++) bytes[i] = random() < 0.5 ? Math.floor(random() * 16) : Math.floor(random() * 256);
    }
  }
  return bytes;
}

function text(random: () => number, size: number, locale: string): Buffer {
  const words = [
    'browser',
    'tab',
    'window',
    'bookmark',
    'history',
    'download',
    'privacy',
    locale,
    'update',
    'settings',
  ];
  let out = '';
  while (out.length < size)
    out += `${words[Math.floor(random() * words.length)]}-${Math.floor(random() * 100)} = ${words[Math.floor(random() * words.length)]}\n`;
  return Buffer.from(out.slice(0, size));
}

export async function buildRelease(shape: ReleaseShape, onProgress: (done: number) => void): Promise<Release> {
  const random = seededRandom(2009);
  const binaryNames = Array.from({ length: shape.binaries }, (_, i) =>
    i === 0 ? 'firefox.exe' : i % 2 === 0 ? `bin${i}.exe` : `lib${i}.dll`,
  );
  const binaries = binaryNames.map((name) =>
    makePeFile(codeLike(random, shape.binaryKib * 1024), { dll: name.endsWith('.dll') }),
  );
  const binaryEntries: MarEntry[] = await Promise.all(
    binaries.map(async (pe, i) => ({
      name: binaryNames[i] as string,
      flags: 0o755,
      data: await compress(FIREFOX_XZ, pe),
    })),
  );
  // Of the other entries, three in four are the same in every locale (omni.ja pieces, defaults), the rest are the locale's own.
  // Besides the binaries, one entry is the update manifest.
  const others = Math.max(1, shape.entries - shape.binaries - 1);
  const ownCount = Math.max(1, Math.round(others / 4));
  const shared: MarEntry[] = await Promise.all(
    Array.from({ length: others - ownCount }, async (_, i) => ({
      name: `browser/defaults/part${i}.js`,
      flags: 0o644,
      data: await compress(FIREFOX_XZ, text(random, 2048 + Math.floor(random() * 8192), 'shared')),
    })),
  );
  const locales: Locale[] = [];
  let marBytes = 0;
  for (let l = 0; l < shape.locales; l++) {
    const name = l === 0 ? 'en-US' : `l${String(l).padStart(3, '0')}`;
    const own: MarEntry[] = await Promise.all(
      Array.from({ length: ownCount }, async (_, i) => ({
        name: `localization/${name}/file${i}.ftl`,
        flags: 0o644,
        data: await compress(FIREFOX_XZ, text(random, 1024 + Math.floor(random() * 4096), name)),
      })),
    );
    const mar = buildMar({
      productInfo: { channel: 'release', version: '3.5' },
      entries: [
        { name: 'updatev3.manifest', flags: 0o644, data: await compress(FIREFOX_XZ, Buffer.from(`locale ${name}\n`)) },
        ...binaryEntries,
        ...shared,
        ...own,
      ],
    });
    const installer = makePeFile(
      Buffer.concat([Buffer.from(`installer ${name}`), codeLike(random, shape.installerKib * 1024)]),
    );
    locales.push({ name, mar, installer });
    marBytes += mar.length;
    onProgress(l + 1);
  }
  return { locales, binaries, marBytes };
}
