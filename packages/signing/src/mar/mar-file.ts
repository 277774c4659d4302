/**
 * @module
 * The MAR container (Mozilla ARchive), read with every limit Firefox's updater enforces, so that a
 * damaged or hostile file is refused here rather than signed. All integers are big-endian.
 *
 * ```
 * 0   "MAR1"
 * 4   u32 offset of the index
 * 8   u64 file size                       ┐ new format only: an old-format MAR's
 * 16  u32 signature count, then for each: │ first entry starts at offset 8
 *       u32 algorithm, u32 length, bytes  │
 * …   u32 section count, then for each:   │
 *       u32 block size (with its header), u32 id, payload
 * …   entry contents                      ┘
 * idx u32 index size, then per entry: u32 offset, u32 size, u32 flags, name NUL
 * ```
 */

export const MAR_MAGIC = Buffer.from('MAR1', 'ascii');
/** Firefox refuses larger MARs (mar_private.h). */
export const MAX_MAR_BYTES = 500 * 1024 * 1024;
export const MAX_SIGNATURES = 8;
export const MAX_SIGNATURE_BYTES = 2048;
export const PRODUCT_INFO_SECTION = 1;

export interface MarSignature {
  algorithm: number;
  bytes: Buffer;
}

/** An additional section, kept byte for byte (Firefox pads the product information block). */
export interface MarSection {
  id: number;
  payload: Buffer;
}

export interface MarEntry {
  name: string;
  /** Unix mode bits, e.g. 0o664. */
  flags: number;
  /** The bytes as stored (compressed), a view into the file. */
  data: Buffer;
}

export interface MarFile {
  /** Old-format MARs predate signatures and additional sections. */
  format: 'old' | 'new';
  signatures: MarSignature[];
  sections: MarSection[];
  /** In index order. */
  entries: MarEntry[];
}

/** A file that is not a well-formed MAR; the message says what is wrong, for a 400. */
export class MarFormatError extends Error {
  constructor(message: string) {
    super(`not a valid MAR: ${message}`);
    this.name = 'MarFormatError';
  }
}

export function readMar(bytes: Buffer): MarFile {
  if (bytes.length < 8 || !bytes.subarray(0, 4).equals(MAR_MAGIC)) throw new MarFormatError('no MAR1 magic');
  if (bytes.length > MAX_MAR_BYTES) throw new MarFormatError(`larger than ${MAX_MAR_BYTES} bytes`);
  const indexOffset = bytes.readUInt32BE(4);
  const located = readIndex(bytes, indexOffset);
  // The old format has no header past offset 8, so its first entry starts there (build-mar's rule).
  const firstData = located.length === 0 ? indexOffset : Math.min(...located.map((entry) => entry.offset));
  const format = firstData === 8 ? 'old' : 'new';
  const header = format === 'new' ? readNewHeader(bytes, indexOffset) : { signatures: [], sections: [], dataStart: 8 };
  const entries = located.map(({ name, flags, offset, size }) => {
    if (offset < header.dataStart || offset + size > indexOffset) {
      throw new MarFormatError(`entry "${name}" lies outside the content region`);
    }
    return { name, flags, data: bytes.subarray(offset, offset + size) };
  });
  return { format, signatures: header.signatures, sections: header.sections, entries };
}

interface LocatedEntry {
  name: string;
  flags: number;
  offset: number;
  size: number;
}

function readIndex(bytes: Buffer, indexOffset: number): LocatedEntry[] {
  if (indexOffset < 8 || indexOffset + 4 > bytes.length) throw new MarFormatError('the index offset is out of range');
  const indexSize = bytes.readUInt32BE(indexOffset);
  const end = indexOffset + 4 + indexSize;
  if (end !== bytes.length) throw new MarFormatError('the index does not end at the end of the file');
  const entries: LocatedEntry[] = [];
  const names = new Set<string>();
  let at = indexOffset + 4;
  while (at < end) {
    if (at + 13 > end) throw new MarFormatError('an index entry is truncated');
    const offset = bytes.readUInt32BE(at);
    const size = bytes.readUInt32BE(at + 4);
    const flags = bytes.readUInt32BE(at + 8);
    const nul = bytes.indexOf(0, at + 12);
    if (nul === -1 || nul >= end) throw new MarFormatError('an entry name is not NUL-terminated');
    const name = bytes.toString('latin1', at + 12, nul);
    if (name.length === 0 || !/^[\x20-\x7e]+$/.test(name))
      throw new MarFormatError('an entry name is not printable ASCII');
    if (names.has(name)) throw new MarFormatError(`entry "${name}" appears twice`);
    names.add(name);
    entries.push({ name, flags, offset, size });
    at = nul + 1;
  }
  return entries;
}

function readNewHeader(bytes: Buffer, indexOffset: number) {
  if (bytes.length < 24) throw new MarFormatError('the header is truncated');
  const declaredSize = bytes.readBigUInt64BE(8);
  if (declaredSize !== BigInt(bytes.length)) {
    throw new MarFormatError(`the header says ${declaredSize} bytes but the file has ${bytes.length}`);
  }
  const signatureCount = bytes.readUInt32BE(16);
  if (signatureCount > MAX_SIGNATURES)
    throw new MarFormatError(`${signatureCount} signatures (at most ${MAX_SIGNATURES})`);
  let at = 20;
  const need = (count: number, what: string) => {
    if (at + count > indexOffset) throw new MarFormatError(`${what} runs past the content region`);
  };
  const signatures: MarSignature[] = [];
  for (let i = 0; i < signatureCount; i++) {
    need(8, 'a signature header');
    const algorithm = bytes.readUInt32BE(at);
    const length = bytes.readUInt32BE(at + 4);
    if (length > MAX_SIGNATURE_BYTES)
      throw new MarFormatError(`a ${length}-byte signature (at most ${MAX_SIGNATURE_BYTES})`);
    need(8 + length, 'a signature');
    signatures.push({ algorithm, bytes: bytes.subarray(at + 8, at + 8 + length) });
    at += 8 + length;
  }
  need(4, 'the section count');
  const sectionCount = bytes.readUInt32BE(at);
  at += 4;
  const sections: MarSection[] = [];
  for (let i = 0; i < sectionCount; i++) {
    need(8, 'a section header');
    const blockSize = bytes.readUInt32BE(at);
    const id = bytes.readUInt32BE(at + 4);
    if (blockSize < 8) throw new MarFormatError(`section ${id} declares ${blockSize} bytes, less than its header`);
    need(blockSize, `section ${id}`);
    sections.push({ id, payload: bytes.subarray(at + 8, at + blockSize) });
    at += blockSize;
  }
  return { signatures, sections, dataStart: at };
}
