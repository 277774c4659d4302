/**
 * Compaction by whichever coordinator can: one that dies holding a log's claim delays it by the
 * claim's hold, and the next one to look (a sweep, a start) compacts it; doing it twice changes
 * nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder } from '@switchyard/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { LocalBlobStore } from '../blobs/local-blob-store.ts';
import { Activity } from '../events/activity.ts';
import { claimJob, finish, push, startStep } from '../store/contract/builders.ts';
import { describeStoreContract, MINUTE } from '../store/contract/harness.ts';
import type { FarmStore } from '../store/port.ts';
import { LegacyLogFiles } from './log-files.ts';
import { LogReader } from './log-reader.ts';
import { LogService } from './log-service.ts';

describeStoreContract('log compaction by any coordinator', (t) => {
  let dir: string;
  let archive: LocalBlobStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-compaction-'));
    archive = new LocalBlobStore(join(dir, 'log-archive'));
    await archive.init();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A coordinator's log service over `store`, with the archive every one of them shares. */
  function coordinator(store: FarmStore, name: string) {
    const legacy = new LegacyLogFiles(join(dir, name, 'logs'));
    const reader = new LogReader(store.logs, store.jobs, archive, legacy);
    const service = new LogService({
      logs: store.logs,
      jobs: store.jobs,
      reader,
      archive,
      legacy,
      activity: new Activity(),
      maxBytesPerStep: () => 1024 * 1024,
      graceMs: () => 0,
      errorPattern: () => /error/,
      logger: pino({ level: 'silent' }),
    });
    return { service, reader };
  }

  /** What a coordinator's start does to logs: its sweep, waited for (drain). */
  async function startAndSettle(service: LogService): Promise<void> {
    await service.start();
    await service.drain();
  }

  async function text(service: LogService, jobId: number): Promise<string> {
    let out = '';
    await service.render(jobId, undefined, {
      follow: false,
      signal: new AbortController().signal,
      write: async (data) => {
        out += data.toString();
      },
    });
    return out;
  }

  it('takes over a log whose compactor died, once its claim runs out, and compacts it once', async () => {
    const other = await t.openAnother();
    const a = coordinator(t.store, 'a');
    const b = coordinator(other, 'b');
    const pushed = await push(t);
    const jobId = pushed.jobs[0]?.id as number;
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    const lines = Array.from({ length: 6 }, (_, seq) => `batch ${seq}\n`);
    for (const [seq, line] of lines.entries()) {
      const service = seq % 2 === 0 ? a.service : b.service;
      await service.append(attemptId, 0, seq, encodeFrame('stdout', Buffer.from(line)));
    }
    await finish(t, attemptId, 'success');

    // A claims the log and dies before storing it: B leaves it alone while A's claim lasts…
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toMatchObject([{ idx: 0 }]);
    await startAndSettle(b.service);
    expect(await other.logs.chunks(attemptId, 0, 0, 10)).toHaveLength(6);
    expect(await text(b.service, jobId)).toBe(lines.join(''));

    // …and compacts it when it looks again after the claim ran out.
    t.clock.advance(MINUTE + 1);
    await startAndSettle(b.service);
    const [step] = await other.jobs.stepsOf(attemptId);
    expect(step?.log_compressed).toBe(1);
    const compacted = step?.log_archive;
    expect(compacted).not.toBeNull();
    expect(await other.logs.chunks(attemptId, 0, 0, 10)).toEqual([]);

    // A, back, finds it done and changes nothing; both read it from the archive.
    await startAndSettle(a.service);
    expect((await t.store.jobs.stepsOf(attemptId))[0]?.log_archive).toBe(compacted);
    expect(await text(a.service, jobId)).toBe(lines.join(''));
    const decoded: string[] = [];
    const decoder = new FrameDecoder();
    for await (const slice of b.reader.read(attemptId, step as NonNullable<typeof step>, 0, step?.log_bytes ?? 0)) {
      for (const chunk of decoder.push(slice)) decoded.push(chunk.data.toString());
    }
    expect(decoded.join('')).toBe(lines.join(''));
  });

  it('compacts a finished step’s log while its attempt runs, and the rest of them once it is over', async () => {
    const a = coordinator(t.store, 'a');
    await a.service.start();
    const pushed = await push(t);
    const jobId = pushed.jobs[0]?.id as number;
    const { attemptId, attemptNumber } = await claimJob(t, 'w1');
    const lines = ['compiling\n', 'packaging\n', 'testing\n'];
    for (const [index, line] of lines.entries()) {
      await startStep(t, attemptId, index);
      await a.service.append(attemptId, index, 0, encodeFrame('stdout', Buffer.from(line)));
    }
    const compacted = async () =>
      (await t.store.jobs.stepsOf(attemptId)).filter((step) => step.log_archive !== null).map((step) => step.idx);

    a.service.stepCompleteOf(jobId, attemptNumber, 1);
    await a.service.drain();
    expect(await compacted()).toEqual([1]);
    expect(await t.store.logs.chunks(attemptId, 1, 0, 10)).toEqual([]);

    await finish(t, attemptId, 'success');
    a.service.attemptComplete(attemptId);
    await a.service.drain();
    expect(await compacted()).toEqual([0, 1, 2]);
    expect(await text(a.service, jobId)).toBe(lines.join(''));
  });

  it('compacts the logs of several attempts at once, four at most', async () => {
    let claiming = 0;
    let mostAtOnce = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const logs: FarmStore['logs'] = Object.create(t.store.logs);
    logs.claimCompactions = async (...args) => {
      claiming += 1;
      mostAtOnce = Math.max(mostAtOnce, claiming);
      await released;
      claiming -= 1;
      return t.store.logs.claimCompactions(...args);
    };
    const a = coordinator({ ...t.store, logs }, 'a');
    const attempts: number[] = [];
    for (let i = 0; i < 6; i++) {
      await push(t);
      const { attemptId } = await claimJob(t, `w${i}`);
      await startStep(t, attemptId, 0);
      await a.service.append(attemptId, 0, 0, encodeFrame('stdout', Buffer.from(`attempt ${i}\n`)));
      await finish(t, attemptId, 'success');
      attempts.push(attemptId);
    }
    for (const attemptId of attempts) a.service.attemptComplete(attemptId);
    await vi.waitFor(() => expect(claiming).toBe(4));
    release();
    await a.service.drain();
    expect(mostAtOnce).toBe(4);
    for (const attemptId of attempts) {
      expect((await t.store.jobs.stepsOf(attemptId))[0]?.log_compressed).toBe(1);
    }
  });
});
