import type { MarEntry, MarSection } from './mar-file.ts';

/** A signature's place in a MAR being written: its algorithm and the exact length it will have. */
export interface SignatureSlot {
  algorithm: number;
  length: number;
}

export interface LaidOutMar {
  bytes: Buffer;
  /** Where each slot's zero-filled bytes start, to be overwritten once signed. */
  signatureOffsets: number[];
}

/**
 * Writes a new-format MAR with zero-filled signatures of their final length (build-mar's
 * approach): the signature bytes are not signed, so nothing moves when they are filled in, and
 * the same layout serves a remote signer that is only sent the hash.
 */
export function writeMar(entries: MarEntry[], sections: MarSection[], slots: SignatureSlot[]): LaidOutMar {
  const signatureBytes = slots.reduce((sum, slot) => sum + 8 + slot.length, 0);
  const sectionBytes = sections.reduce((sum, section) => sum + 8 + section.payload.length, 0);
  const dataStart = 20 + signatureBytes + 4 + sectionBytes;
  const dataBytes = entries.reduce((sum, entry) => sum + entry.data.length, 0);
  const indexOffset = dataStart + dataBytes;
  const indexBody = entries.reduce((sum, entry) => sum + 12 + Buffer.byteLength(entry.name, 'latin1') + 1, 0);
  const bytes = Buffer.alloc(indexOffset + 4 + indexBody);

  bytes.write('MAR1', 0, 'ascii');
  bytes.writeUInt32BE(indexOffset, 4);
  bytes.writeBigUInt64BE(BigInt(bytes.length), 8);
  bytes.writeUInt32BE(slots.length, 16);
  let at = 20;
  const signatureOffsets: number[] = [];
  for (const slot of slots) {
    bytes.writeUInt32BE(slot.algorithm, at);
    bytes.writeUInt32BE(slot.length, at + 4);
    signatureOffsets.push(at + 8);
    at += 8 + slot.length;
  }
  bytes.writeUInt32BE(sections.length, at);
  at += 4;
  for (const section of sections) {
    bytes.writeUInt32BE(8 + section.payload.length, at);
    bytes.writeUInt32BE(section.id, at + 4);
    section.payload.copy(bytes, at + 8);
    at += 8 + section.payload.length;
  }
  const offsets = entries.map((entry) => {
    const offset = at;
    entry.data.copy(bytes, at);
    at += entry.data.length;
    return offset;
  });
  bytes.writeUInt32BE(indexBody, at);
  at += 4;
  entries.forEach((entry, i) => {
    bytes.writeUInt32BE(offsets[i] as number, at);
    bytes.writeUInt32BE(entry.data.length, at + 4);
    bytes.writeUInt32BE(entry.flags, at + 8);
    at += 12;
    at += bytes.write(entry.name, at, 'latin1');
    at += 1;
  });
  return { bytes, signatureOffsets };
}

/**
 * The parts of a new-format MAR that its signatures cover, in order: everything but the
 * signature bytes themselves (build-mar `get_signature_data`): the magic and index offset, the
 * file size and signature count, each signature's algorithm and length, then all that follows
 * the signature block — the sections (channel and version included), the compressed contents
 * and the index.
 */
export function signedParts(bytes: Buffer): Buffer[] {
  const count = bytes.readUInt32BE(16);
  const parts: Buffer[] = [bytes.subarray(0, 20)];
  let at = 20;
  for (let i = 0; i < count; i++) {
    const length = bytes.readUInt32BE(at + 4);
    parts.push(bytes.subarray(at, at + 8));
    at += 8 + length;
  }
  parts.push(bytes.subarray(at));
  return parts;
}
