import { describe, expect, it } from 'vitest';
import { MarFormatError, readMar } from './mar-file.ts';
import { signedParts, writeMar } from './write-mar.ts';

const entries = [
  { name: 'a.txt', flags: 0o644, data: Buffer.from('first') },
  { name: 'dir/b.exe', flags: 0o755, data: Buffer.from('second entry') },
];
const sections = [{ id: 1, payload: Buffer.from('release\x00128.0\x00\x00\x00') }];

function refusal(bytes: Buffer): string {
  try {
    readMar(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(MarFormatError);
    return (error as Error).message;
  }
  throw new Error('expected the MAR to be refused');
}

describe('readMar and writeMar', () => {
  it('read back what they write, with zero-filled signature slots of the right length', () => {
    const { bytes, signatureOffsets } = writeMar(entries, sections, [{ algorithm: 2, length: 512 }]);
    const mar = readMar(bytes);
    expect(mar.format).toBe('new');
    expect(mar.signatures).toEqual([{ algorithm: 2, bytes: Buffer.alloc(512) }]);
    expect(mar.sections).toEqual(sections);
    expect(mar.entries).toEqual(entries);
    expect(signatureOffsets).toEqual([28]);
  });

  it('sign everything but the signature bytes', () => {
    const { bytes, signatureOffsets } = writeMar(entries, sections, [{ algorithm: 2, length: 16 }]);
    const covered = Buffer.concat(signedParts(bytes));
    expect(covered.length).toBe(bytes.length - 16);
    bytes.fill(7, signatureOffsets[0], (signatureOffsets[0] as number) + 16);
    expect(Buffer.concat(signedParts(bytes)).equals(covered)).toBe(true);
  });

  it('refuse damaged files, saying what is wrong', () => {
    const { bytes } = writeMar(entries, sections, []);
    expect(refusal(Buffer.from('MAR2'))).toMatch(/no MAR1 magic/);
    expect(refusal(bytes.subarray(0, bytes.length - 1))).toMatch(/index does not end at the end of the file/);
    const wrongSize = Buffer.from(bytes);
    wrongSize.writeBigUInt64BE(1n, 8);
    expect(refusal(wrongSize)).toMatch(/the header says 1 bytes/);
    const tooMany = Buffer.from(bytes);
    tooMany.writeUInt32BE(9, 16);
    expect(refusal(tooMany)).toMatch(/9 signatures \(at most 8\)/);
  });

  it('refuse an entry that reaches into the index', () => {
    const { bytes } = writeMar(entries, [], []);
    const index = bytes.readUInt32BE(4);
    const stretched = Buffer.from(bytes);
    stretched.writeUInt32BE(1000, index + 4 + 4);
    expect(refusal(stretched)).toBe('not a valid MAR: entry "a.txt" lies outside the content region');
  });
});
