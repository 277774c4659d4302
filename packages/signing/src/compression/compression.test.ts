import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CompressionError, describeCompression, detectCompression } from './compression.ts';

const sample = Buffer.from('MZ\x90\x00 some machine code '.repeat(200), 'latin1');
const tool = (command: string, args: string[]) => spawnSync(command, args, { input: sample }).stdout as Buffer;

describe('detectCompression', () => {
  it("reads Firefox's xz settings: BCJ-x86, LZMA2, CRC64, preset 6", () => {
    const firefox = tool('xz', ['--compress', '--x86', '--lzma2', '--format=xz', '--check=crc64', '--stdout']);
    expect(detectCompression(firefox)).toEqual({ kind: 'xz', x86: true, check: 4, preset: 6 });
    expect(describeCompression(detectCompression(firefox))).toBe('xz+x86/check4/6');
  });

  it('reads plain xz with another check and preset', () => {
    expect(detectCompression(tool('xz', ['-9', '--check=crc32', '--stdout']))).toEqual({
      kind: 'xz',
      x86: false,
      check: 1,
      preset: 9,
    });
    expect(detectCompression(tool('xz', ['-1', '--check=sha256', '--stdout']))).toEqual({
      kind: 'xz',
      x86: false,
      check: 10,
      preset: 1,
    });
  });

  it("reads bzip2's block size", () => {
    expect(detectCompression(tool('bzip2', ['-z9', '--stdout']))).toEqual({ kind: 'bz2', level: 9 });
    expect(detectCompression(tool('bzip2', ['-z1', '--stdout']))).toEqual({ kind: 'bz2', level: 1 });
  });

  it('takes anything else as stored as it is', () => {
    expect(detectCompression(sample)).toEqual({ kind: 'none' });
    expect(detectCompression(Buffer.from('BZhx'))).toEqual({ kind: 'none' });
  });

  it('refuses xz with filters it cannot reproduce', () => {
    const arm = tool('xz', ['--arm', '--lzma2', '--stdout']);
    expect(() => detectCompression(arm)).toThrow(CompressionError);
    expect(() => detectCompression(arm)).toThrow(/filters other than BCJ-x86 and LZMA2/);
  });
});
