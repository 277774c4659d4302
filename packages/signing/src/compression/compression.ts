/**
 * @module
 * How a MAR entry is compressed, read from its first bytes, so that a signed entry can be
 * recompressed the way the MAR had it. Firefox's packaging writes bzip2 -9 (old MARs) or
 * `xz --x86 --lzma2 --check=crc64` (BCJ-x86 + LZMA2, CRC64); both are recognised with their
 * settings, which become part of the cache key since the compressed bytes are what is signed.
 */

export type Compression =
  | { kind: 'none' }
  | { kind: 'bz2' /** bzip2's block size, 1–9 (× 100 kB). */; level: number }
  | {
      kind: 'xz';
      /** The BCJ-x86 filter runs before LZMA2. */
      x86: boolean;
      /** xz's integrity check id: 0 none, 1 CRC32, 4 CRC64, 10 SHA-256. */
      check: number;
      /** The preset whose dictionary size the stream declares (6 is xz's default). */
      preset: number;
    };

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const XZ_FILTER_X86 = 0x04;
const XZ_FILTER_LZMA2 = 0x21;
const XZ_CHECKS = new Set([0, 1, 4, 10]);

/** An entry whose compression is recognised but that can't be read; the message says why. */
export class CompressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressionError';
  }
}

export function detectCompression(bytes: Buffer): Compression {
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 3) === 'BZh') {
    const level = bytes[3]! - 0x30;
    if (level >= 1 && level <= 9) return { kind: 'bz2', level };
  }
  if (bytes.length >= 12 && bytes.subarray(0, 6).equals(XZ_MAGIC)) return readXzSettings(bytes);
  return { kind: 'none' };
}

/** A stable description of the settings, for cache keys and logs: `xz+x86/crc64/6`, `bz2/9`. */
export function describeCompression(compression: Compression): string {
  switch (compression.kind) {
    case 'none':
      return 'none';
    case 'bz2':
      return `bz2/${compression.level}`;
    case 'xz':
      return `xz${compression.x86 ? '+x86' : ''}/check${compression.check}/${compression.preset}`;
  }
}

function readXzSettings(bytes: Buffer): Compression {
  const check = bytes[7]! & 0x0f;
  if (bytes[6] !== 0 || !XZ_CHECKS.has(check)) throw new CompressionError('the xz stream flags are not ones xz writes');
  if (bytes.length < 14) throw new CompressionError('the xz stream has no block');
  const headerEnd = 12 + (bytes[12]! + 1) * 4;
  if (bytes[12] === 0 || headerEnd > bytes.length) throw new CompressionError('the xz block header is truncated');
  const flags = bytes[13]!;
  const filterCount = (flags & 0x03) + 1;
  let at = 14;
  const varint = () => {
    let value = 0;
    for (let shift = 0; shift < 63; shift += 7) {
      if (at >= headerEnd) throw new CompressionError('the xz block header is truncated');
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new CompressionError('the xz block header has an overlong number');
  };
  if (flags & 0x40) varint();
  if (flags & 0x80) varint();
  const filters: { id: number; properties: Buffer }[] = [];
  for (let i = 0; i < filterCount; i++) {
    const id = varint();
    const size = varint();
    filters.push({ id, properties: bytes.subarray(at, at + size) });
    at += size;
  }
  const last = filters.at(-1);
  const before = filters.slice(0, -1).map((filter) => filter.id);
  if (last?.id !== XZ_FILTER_LZMA2 || !before.every((id) => id === XZ_FILTER_X86)) {
    throw new CompressionError('the xz stream uses filters other than BCJ-x86 and LZMA2');
  }
  return { kind: 'xz', x86: before.length > 0, check, preset: presetForDictionary(last.properties[0] ?? 0) };
}

/** The xz preset whose dictionary the LZMA2 property byte encodes (xz(1)'s preset table). */
function presetForDictionary(property: number): number {
  const size = property >= 40 ? 0xffffffff : (2 | (property & 1)) * 2 ** (Math.floor(property / 2) + 11);
  const mib = size / (1024 * 1024);
  if (mib <= 0.25) return 0;
  if (mib <= 1) return 1;
  if (mib <= 2) return 2;
  if (mib <= 4) return 4;
  if (mib <= 8) return 6;
  if (mib <= 16) return 7;
  if (mib <= 32) return 8;
  return 9;
}
