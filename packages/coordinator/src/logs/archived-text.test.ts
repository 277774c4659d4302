import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { encodeFrame, type LogStream } from '@switchyard/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../blobs/local-blob-store.ts';
import type { ArchivedLog, JobStore, StepRecord } from '../store/port.ts';
import { ArchivedText, type IndexedStep } from './archived-text.ts';
import { GzipMembers } from './log-archive.ts';
import { LegacyLogFiles } from './log-files.ts';
import { LogReader } from './log-reader.ts';
import { LogText } from './log-text.ts';
import { LogTexts } from './log-texts.ts';
import { CHECKPOINT_BYTES, type StepIndex, StepIndexBuilder } from './step-index.ts';

const PATTERN = /^(error|FAIL)\b/;

/** A deterministic stream of numbers, so every run writes the same awkward log. */
function numbers(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * A step's frames: lines cut across frames at random places, headers mid-line, carriage
 * returns, ANSI colours, error lines, a few long lines, and `endsMidLine` a last line without newline.
 */
function frames(seed: number, lines: number, endsMidLine: boolean): Buffer {
  const random = numbers(seed);
  let text = '';
  const out: Buffer[] = [];
  const flush = (stream: LogStream) => {
    while (text.length > 0) {
      const take = 1 + Math.floor(random() * 300);
      out.push(encodeFrame(stream, Buffer.from(text.slice(0, take))));
      text = text.slice(take);
    }
  };
  for (let i = 0; i < lines; i += 1) {
    const kind = random();
    if (kind < 0.02) {
      flush('stdout');
      text = `$ step ${i}`;
      flush('header');
      continue;
    }
    if (kind < 0.05) text += `error: thing ${i} broke\r\n`;
    else if (kind < 0.06) text += `\u001b[31mFAIL\u001b[0m test ${i}\n`;
    else if (kind < 0.07) text += `${'x'.repeat(5000 + i)}\n`;
    else if (kind < 0.08) text += '\n';
    else text += `line ${i} of the log, héllo\n`;
    if (random() < 0.3) flush(random() < 0.1 ? 'stderr' : 'stdout');
  }
  if (endsMidLine) text += 'no newline at the end';
  flush('stdout');
  return Buffer.concat(out);
}

describe('a log read from its stored line index', () => {
  let dir: string;
  let archive: LocalBlobStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-archived-text-'));
    archive = new LocalBlobStore(join(dir, 'archive'));
    await archive.init();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function record(idx: number, bytes: number, log: ArchivedLog | null): StepRecord {
    return {
      attempt_id: 1,
      idx,
      name: `step ${idx}`,
      state: idx === 2 ? 'failure' : 'success',
      exit_code: idx === 2 ? 1 : 0,
      signal: null,
      started_at: 1000 * idx,
      finished_at: 1000 * idx + 500,
      log_bytes: bytes,
      log_seq: 1,
      log_compressed: 1,
      log_archive: log ? JSON.stringify(log) : null,
      log_compacting_until: null,
    };
  }

  /** Archives a step's frames as compaction does: gzip members and the index, from one pass over the slices. */
  async function archived(idx: number, data: Buffer): Promise<IndexedStep> {
    if (data.length === 0) return { record: record(idx, 0, null), stored: null };
    const builder = new StepIndexBuilder(PATTERN);
    async function* slices(): AsyncGenerator<Buffer> {
      for (let i = 0; i < data.length; i += 7000) {
        const slice = data.subarray(i, i + 7000);
        builder.push(slice);
        yield slice;
      }
    }
    const gzipped = new GzipMembers(slices(), 16 * 1024);
    const blob = await archive.put(Readable.from(gzipped));
    const log: ArchivedLog = {
      sha256: blob.sha256,
      size: gzipped.size,
      memberBytes: 16 * 1024,
      members: gzipped.members,
    };
    const index: StepIndex = builder.finish();
    const indexBlob = await archive.put(Readable.from([Buffer.from(JSON.stringify(index))]));
    const named: ArchivedLog = { ...log, index: { sha256: indexBlob.sha256, size: indexBlob.size } };
    return { record: record(idx, data.length, named), stored: { log, index } };
  }

  /** The same steps read through by LogText, as a coordinator without stored indexes does. */
  async function readThrough(steps: IndexedStep[]): Promise<LogText> {
    const reader = new LogReader(
      { chunks: () => Promise.reject(new Error('archived logs have no chunks')) },
      { stepsOf: () => Promise.resolve(steps.map((s) => s.record)) },
      archive,
      new LegacyLogFiles(join(dir, 'legacy')),
    );
    const file = await open(join(dir, 'text'), 'w+');
    const text = new LogText(1, file, reader, PATTERN);
    await text.extend(
      steps.map((s) => s.record),
      true,
    );
    return text;
  }

  it('has the lines, sections, error lines and search hits of the log read through', async () => {
    const steps = [
      await archived(0, frames(1, 20_000, true)),
      await archived(1, Buffer.alloc(0)),
      await archived(2, frames(2, 9_000, false)),
    ];
    expect(steps[0]?.stored?.log.size).toBeGreaterThan(0);
    expect(steps[0]?.stored?.index.checkpoints.length).toBeGreaterThan(
      (3 * (steps[0]?.record.log_bytes ?? 0)) / CHECKPOINT_BYTES - 3,
    );
    const stored = new ArchivedText(archive, steps);
    const through = await readThrough(steps);
    try {
      expect(stored.lineCount).toBe(through.lineCount);
      expect(stored.size).toBe(through.size);
      expect(stored.sections).toEqual(through.sections);
      expect(stored.errors).toEqual(through.errors);
      expect(stored.errors.length).toBeGreaterThan(100);
      expect(stored.errorsTruncated).toBe(through.errorsTruncated);
      const total = through.lineCount;
      const section = stored.sections[2] as { firstLine: number };
      const ranges: [number, number][] = [
        [1, 50],
        [total - 100, total + 10],
        [section.firstLine - 20, section.firstLine + 20],
        [12_345, 12_345],
      ];
      const random = numbers(3);
      for (let i = 0; i < 30; i += 1) {
        const from = 1 + Math.floor(random() * total);
        ranges.push([from, from + Math.floor(random() * 400)]);
      }
      for (const [from, to] of ranges)
        expect(await stored.lines(from, to), `lines ${from}-${to}`).toEqual(await through.lines(from, to));
      for (const q of ['héllo', 'FAIL', 'no newline', 'xxxxx']) {
        const matches = (line: string) => line.includes(q);
        expect(await stored.search(matches, 100_000)).toEqual(await through.search(matches, 100_000));
        expect(await stored.search(matches, 3)).toEqual(await through.search(matches, 3));
      }
    } finally {
      await through.close();
    }
  });

  it('keeps at most 1,000 error lines in all, however many each step has', async () => {
    const errors = (n: number) =>
      encodeFrame('stdout', Buffer.from(Array.from({ length: n }, (_, i) => `error ${i}\n`).join('')));
    const steps = [await archived(0, errors(600)), await archived(1, errors(600))];
    const stored = new ArchivedText(archive, steps);
    const through = await readThrough(steps);
    try {
      expect(stored.errors).toEqual(through.errors);
      expect(stored.errors).toHaveLength(1000);
      expect(stored.errorsTruncated).toBe(true);
      expect(through.errorsTruncated).toBe(true);
    } finally {
      await through.close();
    }
  });

  it('is what a coordinator opens for a finished, compacted attempt whose index matches the error patterns in force', async () => {
    const steps = [await archived(0, frames(4, 2_000, false)), await archived(1, frames(5, 2_000, true))];
    let records = steps.map((s) => s.record);
    const jobs = {
      findAttempt: async () => ({ job: { id: 7, state: 'failure' }, attempt: { id: 1, number: 1, state: 'failure' } }),
      stepsOf: async () => records,
      attemptState: async () => ({ state: 'failure', reason: null }),
    } as unknown as JobStore;
    const reader = new LogReader(
      { chunks: () => Promise.reject(new Error('archived logs have no chunks')) },
      jobs,
      archive,
      new LegacyLogFiles(join(dir, 'legacy')),
    );
    let pattern = PATTERN;
    const texts = new LogTexts(join(dir, 'log-text'), jobs, reader, archive, () => pattern);
    await texts.start();
    try {
      const stored = (await texts.open(7, undefined)).text;
      expect(stored).toBeInstanceOf(ArchivedText);
      const lineCount = stored?.lineCount ?? 0;
      expect(lineCount).toBeGreaterThan(3_000);

      // Another error pattern (a config reload): read through, its error lines those of the new pattern.
      pattern = /^line 1\d\b/;
      const reread = (await texts.open(7, undefined)).text;
      expect(reread).toBeInstanceOf(LogText);
      expect(reread?.lineCount).toBe(lineCount);
      expect(reread?.errors.map((e) => e.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^line 1\d /)]));

      // A log compacted before the stored indexes: read through too.
      pattern = PATTERN;
      records = records.map((r) => ({
        ...r,
        log_archive: JSON.stringify({ ...JSON.parse(r.log_archive as string), index: undefined }),
      }));
      const old = (await texts.open(7, undefined)).text;
      expect(old).toBeInstanceOf(LogText);
      expect(await old?.lines(lineCount - 5, lineCount)).toEqual(await stored?.lines(lineCount - 5, lineCount));
    } finally {
      await texts.close();
    }
  });
});
