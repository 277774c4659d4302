/**
 * @module
 * Compressing and decompressing entries in-process: liblzma through node-liblzma, and the real
 * libbzip2 compiled to WebAssembly (its bzip2 -9 output is byte-identical to the bzip2 tool's).
 * Mozilla's 2009 signing sped up by dropping bzip2 subprocesses; these calls are synchronous and
 * run inside the signing worker threads, never on the server's event loop.
 */
import { createRequire } from 'node:module';
import { type Compression, CompressionError } from './compression.ts';

const require = createRequire(import.meta.url);
const lzma = require('node-liblzma') as typeof import('node-liblzma');
const BZIP2_PACKAGE_VERSION = (require('libbzip2-wasm/package.json') as { version: string }).version;

interface Bzip2Module {
  compressBZ2(input: Uint8Array, blockSize: number, workFactor: number): { error: number; output: Uint8Array };
  decompressBZ2(input: Uint8Array, small: number): { error: number; output: Uint8Array };
}

let bzip2: Promise<Bzip2Module> | undefined;

/**
 * libbzip2-wasm, loaded on first use. Its Emscripten prelude adds process-wide exception
 * handlers, which is one more reason it is only ever loaded inside a worker thread.
 */
function loadBzip2(): Promise<Bzip2Module> {
  bzip2 ??= new Promise((resolve) => {
    const factory = require('libbzip2-wasm') as () => {
      then(ready: (module: Bzip2Module & { then?: unknown }) => void): void;
    };
    factory().then((module) => {
      // The module is a thenable; resolving with it as it is would loop for ever.
      delete module.then;
      resolve(module);
    });
  });
  return bzip2;
}

/** The libraries and versions doing the work, part of every cache key over compressed bytes. */
export function codecIdentity(compression: Compression): string {
  if (compression.kind === 'xz') return `liblzma-${lzma.versionString()}`;
  if (compression.kind === 'bz2') return `libbzip2-wasm-${BZIP2_PACKAGE_VERSION}`;
  return 'identity';
}

export async function decompress(compression: Compression, data: Buffer): Promise<Buffer> {
  switch (compression.kind) {
    case 'none':
      return data;
    case 'xz':
      return lzma.unxzSync(data);
    case 'bz2': {
      const { error, output } = (await loadBzip2()).decompressBZ2(data, 0);
      if (error !== 0) throw new CompressionError(`the bzip2 data is damaged (libbzip2 error ${error})`);
      return Buffer.from(output);
    }
  }
}

export async function compress(compression: Compression, data: Buffer): Promise<Buffer> {
  switch (compression.kind) {
    case 'none':
      return data;
    case 'xz':
      return lzma.xzSync(data, {
        filters: compression.x86 ? [lzma.filter.X86, lzma.filter.LZMA2] : [lzma.filter.LZMA2],
        check: compression.check,
        preset: compression.preset,
      });
    case 'bz2': {
      // 30 is bzip2's default work factor, as `bzip2 -9` uses.
      const { error, output } = (await loadBzip2()).compressBZ2(data, compression.level, 30);
      if (error !== 0) throw new CompressionError(`libbzip2 could not compress (error ${error})`);
      return Buffer.from(output);
    }
  }
}
