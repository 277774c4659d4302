/**
 * @module
 * An independent MAR reader for the tests, written from the format's description
 * (shared/reference/signing.md §2, Firefox's mar_private.h) and sharing no code with the
 * signer's: if the signer misplaced a byte, the two would disagree. It checks everything the
 * updater checks and returns the bytes a signature covers, for openssl to verify.
 */

export interface SpecMar {
  oldFormat: boolean;
  fileSize: number;
  signatures: { algorithm: number; signature: Buffer }[];
  /** Additional sections with their declared block size (header included) and raw payload. */
  sections: { id: number; blockSize: number; payload: Buffer }[];
  entries: { name: string; flags: number; offset: number; data: Buffer }[];
  /** What every signature covers: the file without the signature bytes themselves. */
  signedBytes: Buffer;
}

export function readMarPerSpec(file: Buffer): SpecMar {
  const fail = (why: string): never => {
    throw new Error(`MAR rejected by the spec reader: ${why}`);
  };
  if (file.toString('ascii', 0, 4) !== 'MAR1') fail('bad magic');
  const u32 = (at: number) => (at + 4 <= file.length ? file.readUInt32BE(at) : fail(`read past the end at ${at}`));
  const indexOffset = u32(4);
  const indexSize = u32(indexOffset);
  if (indexOffset + 4 + indexSize !== file.length) fail('index does not reach the end of the file exactly');

  const entries: SpecMar['entries'] = [];
  let cursor = indexOffset + 4;
  while (cursor < file.length) {
    const offset = u32(cursor);
    const size = u32(cursor + 4);
    const flags = u32(cursor + 8);
    let end = cursor + 12;
    while (end < file.length && file[end] !== 0) end++;
    if (end >= file.length) fail('unterminated name');
    entries.push({
      name: file.toString('ascii', cursor + 12, end),
      flags,
      offset,
      data: file.subarray(offset, offset + size),
    });
    cursor = end + 1;
  }

  let lowest = indexOffset;
  for (const entry of entries) lowest = Math.min(lowest, entry.offset);
  const oldFormat = lowest === 8;
  const signatures: SpecMar['signatures'] = [];
  const sections: SpecMar['sections'] = [];
  let signedBytes = file;
  let fileSize = file.length;
  if (!oldFormat) {
    const high = u32(8);
    const low = u32(12);
    fileSize = high * 2 ** 32 + low;
    if (fileSize !== file.length) fail(`declared size ${fileSize} but ${file.length} bytes`);
    const count = u32(16);
    if (count > 8) fail('more than 8 signatures');
    const signed: Buffer[] = [file.subarray(0, 20)];
    let at = 20;
    for (let i = 0; i < count; i++) {
      const algorithm = u32(at);
      const length = u32(at + 4);
      if (length > 2048) fail('signature over 2048 bytes');
      signed.push(file.subarray(at, at + 8));
      signatures.push({ algorithm, signature: file.subarray(at + 8, at + 8 + length) });
      at += 8 + length;
    }
    signed.push(file.subarray(at));
    signedBytes = Buffer.concat(signed);
    const sectionCount = u32(at);
    at += 4;
    for (let i = 0; i < sectionCount; i++) {
      const blockSize = u32(at);
      const id = u32(at + 4);
      sections.push({ id, blockSize, payload: file.subarray(at + 8, at + blockSize) });
      at += blockSize;
    }
    for (const entry of entries) {
      if (entry.offset < at || entry.offset + entry.data.length > indexOffset)
        fail(`${entry.name} outside the data region`);
    }
  }
  return { oldFormat, fileSize, signatures, sections, entries, signedBytes };
}
