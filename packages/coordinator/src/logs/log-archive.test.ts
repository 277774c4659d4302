import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../blobs/local-blob-store.ts';
import type { BlobsTarget } from '../config/blobs-config.ts';
import type { ArchivedLog, LogChunk, StepRecord } from '../store/port.ts';
import { GzipMembers, logArchiveTarget, readArchived } from './log-archive.ts';
import { LegacyLogFiles } from './log-files.ts';
import { LogReader } from './log-reader.ts';

async function bytesOf(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  return (await bytesOf(source)).toString();
}

async function* slices(text: string, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
}

/** A log of 2,000 numbered lines: any byte range of it is easy to check. */
const LOG = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('');

function step(overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    attempt_id: 1,
    idx: 0,
    name: 'compile',
    state: 'success',
    exit_code: 0,
    signal: null,
    started_at: 0,
    finished_at: 1,
    log_bytes: LOG.length,
    log_seq: 1,
    log_compressed: 0,
    log_archive: null,
    log_compacting_until: null,
    ...overrides,
  };
}

describe('the log archive', () => {
  let dir: string;
  let archive: LocalBlobStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-log-archive-'));
    archive = new LocalBlobStore(join(dir, 'archive'));
    await archive.init();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function archived(memberBytes: number): Promise<ArchivedLog> {
    const gzipped = new GzipMembers(slices(LOG, 777), memberBytes);
    const blob = await archive.put(Readable.from(gzipped));
    return { sha256: blob.sha256, size: gzipped.size, memberBytes, members: gzipped.members };
  }

  it('is one gzip file of members of a fixed size, which gunzip reads whole', async () => {
    const log = await archived(1000);
    expect(log.members).toHaveLength(Math.ceil(LOG.length / 1000));
    expect(log.members[0]).toBe(0);
    expect(gunzipSync(await bytesOf(await archive.open(log.sha256))).toString()).toBe(LOG);
  });

  it('reads any byte range, inflating from the member that holds its start', async () => {
    const log = await archived(1000);
    for (const [start, end] of [
      [0, LOG.length],
      [0, 1],
      [999, 1001],
      [1000, 2000],
      [5432, 9876],
      [LOG.length - 3, LOG.length],
    ] as const) {
      expect(await collect(readArchived(archive, log, start, end))).toBe(LOG.slice(start, end));
    }
  });

  it('lives apart from the blobs the artifacts’ collector walks', () => {
    const s3: BlobsTarget = {
      kind: 's3',
      location: { bucket: 'farm', prefix: 'switchyard/' },
      client: { region: 'us-east-1', endpoint: undefined, forcePathStyle: false, credentials: null },
      redirectDownloads: false,
    };
    expect(logArchiveTarget({ kind: 'local', dir: 'blobs' })).toEqual({ kind: 'local', dir: 'log-archive' });
    expect(logArchiveTarget({ kind: 'local', dir: '/srv/blobs' })).toEqual({ kind: 'local', dir: '/srv/log-archive' });
    expect(logArchiveTarget(s3)).toMatchObject({ location: { bucket: 'farm', prefix: 'switchyard/logs/' } });
  });

  describe('LogReader', () => {
    /** The log stored as chunks of 500 bytes from `from` on; the ones before are a legacy file's. */
    function chunksFrom(from: number): LogChunk[] {
      const chunks: LogChunk[] = [];
      for (let offset = from, seq = 0; offset < LOG.length; offset += 500, seq++) {
        chunks.push({ seq, offset, data: Buffer.from(LOG.slice(offset, offset + 500)) });
      }
      return chunks;
    }

    function reader(stored: LogChunk[], rows: StepRecord[] = [step()]) {
      const logs = {
        chunks: async (_attempt: number, _step: number, from: number, limit: number) => {
          const first = stored.findLastIndex((chunk) => chunk.offset <= from);
          return stored.slice(Math.max(0, first), Math.max(0, first) + limit);
        },
      };
      return new LogReader(logs, { stepsOf: async () => rows }, archive, new LegacyLogFiles(join(dir, 'logs')));
    }

    it('reads a running step’s chunks from any offset', async () => {
      const read = reader(chunksFrom(0));
      expect(await collect(read.read(1, step(), 0, LOG.length))).toBe(LOG);
      expect(await collect(read.read(1, step(), 1234, 17_890))).toBe(LOG.slice(1234, 17_890));
    });

    it('follows a log compacted while it is read into the archive', async () => {
      const log = await archived(4096);
      const compacted = step({ log_compressed: 1, log_archive: JSON.stringify(log) });
      // The row said chunks; they are gone by the time they are asked for.
      expect(await collect(reader([], [compacted]).read(1, step(), 100, 9000))).toBe(LOG.slice(100, 9000));
    });

    it('reads a farm’s logs from before the chunks: a gzip file, and a raw file before the first chunk', async () => {
      const legacy = new LegacyLogFiles(join(dir, 'logs'));
      mkdirSync(join(dir, 'logs', '0', '1'), { recursive: true });
      writeFileSync(legacy.gzipPath(1, 0), gzipSync(LOG));
      expect(await collect(reader([]).read(1, step({ log_compressed: 1 }), 10, 3000))).toBe(LOG.slice(10, 3000));
      // A step the old coordinator started: its first 1,000 bytes in its raw file, the rest chunks.
      writeFileSync(legacy.rawPath(1, 0), LOG.slice(0, 1000));
      expect(await collect(reader(chunksFrom(1000)).read(1, step(), 0, LOG.length))).toBe(LOG);
    });

    it('says which bytes are missing rather than returning a shorter log', async () => {
      await expect(collect(reader(chunksFrom(1000)).read(1, step(), 0, LOG.length))).rejects.toThrow(
        /bytes 0-1000 of the log of step 0 of attempt 1 are missing/,
      );
    });
  });
});
