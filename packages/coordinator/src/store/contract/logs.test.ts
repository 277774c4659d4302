import { expect, it } from 'vitest';
import type { ArchivedLog } from '../port.ts';
import { claimJob, expectRefusal, finish, jobOf, push, startStep } from './builders.ts';
import { type ContractContext, describeStoreContract, MINUTE } from './harness.ts';

const text = (s: string) => Buffer.from(s);

/** The step's stored log, read back chunk by chunk from `from`. */
async function storedLog(t: ContractContext, attemptId: number, step: number, from = 0): Promise<string> {
  const chunks = await t.store.logs.chunks(attemptId, step, from, 1000);
  return Buffer.concat(chunks.map((chunk) => chunk.data))
    .subarray(from - (chunks[0]?.offset ?? from))
    .toString();
}

const ARCHIVE: ArchivedLog = { sha256: 'a'.repeat(64), size: 40, memberBytes: 1024 * 1024, members: [0] };

describeStoreContract('logs', (t) => {
  it('says where a started step’s log stands, and nothing for a step never started', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    expect(await t.store.logs.stepLogState(attemptId, 0)).toBeNull();
    await startStep(t, attemptId, 0);
    expect(await t.store.logs.stepLogState(attemptId, 0)).toEqual({
      bytes: 0,
      seq: 0,
      attemptState: 'running',
      jobId: jobOf(pushed, 'build'),
      compressed: false,
    });
    expect(await t.store.logs.stepLogState(attemptId + 100, 0)).toBeNull();
  });

  it('stores each batch once, in order, as a chunk where the log ended: a repeat changes nothing, a later batch is a gap', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    expect(await t.store.logs.append(attemptId, 0, { seq: 0, offset: 0, data: text('one\n') })).toEqual({
      bytes: 4,
      cancel: false,
    });
    // The same batch again (its answer was lost): acknowledged with the length, not stored twice.
    expect(await t.store.logs.append(attemptId, 0, { seq: 0, offset: 0, data: text('one\n') })).toEqual({
      bytes: 4,
      cancel: false,
    });
    const gap = await expectRefusal(
      t.store.logs.append(attemptId, 0, { seq: 2, offset: 4, data: text('three\n') }),
      'log-sequence-gap',
    );
    expect(gap.details).toEqual({ expected: 1 });
    await expectRefusal(t.store.logs.append(attemptId, 0, { seq: 1, offset: 2, data: text('two\n') }), 'conflict');
    await t.store.logs.append(attemptId, 0, { seq: 1, offset: 4, data: text('two\n') });
    // A batch wholly past the log limit moves the sequence on with nothing stored.
    await t.store.logs.append(attemptId, 0, { seq: 2, offset: 8, data: Buffer.alloc(0) });
    await t.store.logs.append(attemptId, 0, { seq: 3, offset: 8, data: text('four\n') });
    expect(await t.store.logs.stepLogState(attemptId, 0)).toMatchObject({ bytes: 13, seq: 4 });
    expect(await storedLog(t, attemptId, 0)).toBe('one\ntwo\nfour\n');
    expect((await t.store.logs.chunks(attemptId, 0, 0, 1000)).map((c) => [c.seq, c.offset])).toEqual([
      [0, 0],
      [1, 4],
      [3, 8],
    ]);
    expect((await t.store.logs.chunks(attemptId, 0, 0, 2)).map((c) => c.seq)).toEqual([0, 1]);
    // From the middle of a chunk: that chunk and the ones after it, `limit` of them.
    expect(await storedLog(t, attemptId, 0, 5)).toBe('wo\nfour\n');
    expect((await t.store.logs.chunks(attemptId, 0, 5, 1)).map((c) => c.seq)).toEqual([1]);
    expect(await t.store.logs.chunks(attemptId, 0, 13, 10)).toMatchObject([{ seq: 3 }]);
  });

  it('refuses a batch for a step never started, and for an attempt that ended', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await expectRefusal(t.store.logs.append(attemptId, 0, { seq: 0, offset: 0, data: text('x') }), 'conflict');
    await startStep(t, attemptId, 0);
    await finish(t, attemptId, 'success');
    await expectRefusal(t.store.logs.append(attemptId, 0, { seq: 0, offset: 0, data: text('x') }), 'lease-lost');
    expect(await t.store.logs.chunks(attemptId, 0, 0, 10)).toEqual([]);
  });

  it('applies the same batch once when two coordinators are given it at the same time', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    for (let seq = 0; seq < 5; seq++) {
      const batch = { seq, offset: seq * 6, data: text(`line${seq}\n`) };
      const answers = await Promise.all([
        t.store.logs.append(attemptId, 0, batch),
        t.store.logs.append(attemptId, 0, batch),
      ]);
      expect(answers.map((a) => a.bytes)).toEqual([(seq + 1) * 6, (seq + 1) * 6]);
    }
    expect(await storedLog(t, attemptId, 0)).toBe('line0\nline1\nline2\nline3\nline4\n');
  });

  it('stores the log batches of a report with the rest of it, or none of them', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await expectRefusal(
      t.store.jobs.report(attemptId, [
        { kind: 'step-started', index: 0, request: { name: 'compile', startedAt: t.clock.iso() } },
        { kind: 'log', step: 0, seq: 0, offset: 0, data: text('kept?\n') },
        { kind: 'log', step: 0, seq: 2, offset: 6, data: text('gap\n') },
      ]),
      'log-sequence-gap',
    );
    expect(await t.store.logs.chunks(attemptId, 0, 0, 10)).toEqual([]);
    await t.store.jobs.report(attemptId, [
      { kind: 'step-started', index: 0, request: { name: 'compile', startedAt: t.clock.iso() } },
      { kind: 'log', step: 0, seq: 0, offset: 0, data: text('a\n') },
      { kind: 'log', step: 0, seq: 1, offset: 2, data: text('b\n') },
    ]);
    expect(await storedLog(t, attemptId, 0)).toBe('a\nb\n');
  });

  it('lets one coordinator at a time compact a log, and records it once with its chunks deleted', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await t.store.logs.append(attemptId, 0, { seq: 0, offset: 0, data: text('0123456789') });
    await finish(t, attemptId, 'success');

    const claimed = [{ idx: 0, log_bytes: 10, log_compressed: 0, log_archive: null }];
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toEqual(claimed);
    // Another coordinator, told the same attempt ended, leaves its log alone while the hold lasts…
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toEqual([]);
    t.clock.advance(MINUTE);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE, [0])).toEqual([]);
    // …and takes it over once the first one's hold ran out (it died midway).
    t.clock.advance(1);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toEqual(claimed);

    // A length that is no longer the log's is refused, and changes nothing.
    expect(await t.store.logs.recordCompacted(attemptId, 0, 9, ARCHIVE)).toBe(false);
    expect(await storedLog(t, attemptId, 0)).toBe('0123456789');
    expect(await t.store.logs.stepLogState(attemptId, 0)).toMatchObject({ bytes: 10, compressed: false });
    expect(await t.store.logs.recordCompacted(attemptId, 0, 10, ARCHIVE)).toBe(true);
    // Whoever compacted it too, later, finds it done: its record is refused, the first one stays.
    expect(await t.store.logs.recordCompacted(attemptId, 0, 10, { ...ARCHIVE, sha256: 'b'.repeat(64) })).toBe(false);
    expect(await t.store.logs.chunks(attemptId, 0, 0, 10)).toEqual([]);
    expect(await t.store.logs.stepLogState(attemptId, 0)).toMatchObject({ bytes: 10, compressed: true });
    const [step] = await t.store.jobs.stepsOf(attemptId);
    expect(JSON.parse(step?.log_archive ?? 'null')).toEqual(ARCHIVE);
    expect(step?.log_compacting_until).toBeNull();
    t.clock.advance(MINUTE + 1);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toEqual([]);
  });

  it('claims all of an attempt’s logs not yet compacted in one go, or only those of the steps given', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    for (const index of [0, 1, 2]) {
      await startStep(t, attemptId, index);
      await t.store.logs.append(attemptId, index, { seq: 0, offset: 0, data: text(`step ${index}\n`) });
    }
    const idxOf = (logs: { idx: number }[]) => logs.map((log) => log.idx);
    // A step that finished while the attempt runs: its log only.
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE, [1])).toEqual([
      { idx: 1, log_bytes: 7, log_compressed: 0, log_archive: null },
    ]);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE, [])).toEqual([]);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE, [7])).toEqual([]);
    expect(await t.store.logs.recordCompacted(attemptId, 1, 7, ARCHIVE)).toBe(true);
    await finish(t, attemptId, 'success');
    // The attempt is over: the rest, in step order, none twice.
    expect(idxOf(await t.store.logs.claimCompactions(attemptId, MINUTE))).toEqual([0, 2]);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toEqual([]);
    expect(await t.store.logs.recordCompacted(attemptId, 0, 7, ARCHIVE)).toBe(true);
    t.clock.advance(MINUTE + 1);
    expect(idxOf(await t.store.logs.claimCompactions(attemptId, MINUTE, [0, 1, 2]))).toEqual([2]);
    // Another attempt's logs are not its own.
    expect(await t.store.logs.claimCompactions(attemptId + 100, MINUTE)).toEqual([]);
  });

  it('gives each log to one of the coordinators racing to claim it', async () => {
    const other = await t.openAnother();
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const steps = [0, 1, 2, 3, 4];
    for (const index of steps) await startStep(t, attemptId, index);
    await finish(t, attemptId, 'success');
    for (let round = 0; round < 3; round++) {
      const claims = await Promise.all([
        t.store.logs.claimCompactions(attemptId, MINUTE),
        other.logs.claimCompactions(attemptId, MINUTE),
        t.store.logs.claimCompactions(attemptId, MINUTE, [1, 3]),
      ]);
      expect(claims.flatMap((logs) => logs.map((log) => log.idx)).sort()).toEqual(steps);
      // Each hold runs out before the next round: the logs are up for grabs again.
      t.clock.advance(MINUTE + 1);
    }
  });

  it('refuses to record a log compacted without the batches stored after its claim, and leaves them', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await t.store.logs.append(attemptId, 0, { seq: 0, offset: 0, data: text('one\n') });
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE, [0])).toMatchObject([{ idx: 0, log_bytes: 4 }]);
    await t.store.logs.append(attemptId, 0, { seq: 1, offset: 4, data: text('two\n') });
    expect(await t.store.logs.recordCompacted(attemptId, 0, 4, ARCHIVE)).toBe(false);
    expect(await storedLog(t, attemptId, 0)).toBe('one\ntwo\n');
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ log_compressed: 0, log_archive: null }]);
    // Its hold runs out and the log is claimed again, whole.
    t.clock.advance(MINUTE + 1);
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE, [0])).toMatchObject([{ idx: 0, log_bytes: 8 }]);
    expect(await t.store.logs.recordCompacted(attemptId, 0, 8, ARCHIVE)).toBe(true);
    expect(await t.store.logs.chunks(attemptId, 0, 0, 10)).toEqual([]);
    // A step never started has nothing to record.
    expect(await t.store.logs.recordCompacted(attemptId, 5, 0, null)).toBe(false);
  });

  it('records an empty log compacted with nothing archived', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await finish(t, attemptId, 'success');
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toEqual([
      { idx: 0, log_bytes: 0, log_compressed: 0, log_archive: null },
    ]);
    expect(await t.store.logs.recordCompacted(attemptId, 0, 0, null)).toBe(true);
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ log_compressed: 1, log_archive: null }]);
  });

  it('lists the logs gzipped on disk by a farm from before the archive, until each is imported', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    for (const index of [0, 1, 2]) {
      await startStep(t, attemptId, index);
      if (index < 2) await t.store.logs.append(attemptId, index, { seq: 0, offset: 0, data: text('old\n') });
    }
    await finish(t, attemptId, 'success');
    // What a coordinator of the old layout did once a step was over: gzip its file, mark it.
    expect(await t.store.logs.claimCompactions(attemptId, MINUTE)).toHaveLength(3);
    for (const index of [0, 1, 2]) await t.store.logs.recordCompacted(attemptId, index, index < 2 ? 4 : 0, null);
    // The empty one has nothing to import.
    expect(await t.store.logs.legacyLogs(null, 10)).toEqual([
      { attemptId, index: 0, bytes: 4 },
      { attemptId, index: 1, bytes: 4 },
    ]);
    expect(await t.store.logs.legacyLogs({ attemptId, index: 0 }, 10)).toEqual([{ attemptId, index: 1, bytes: 4 }]);
    expect(await t.store.logs.legacyLogs(null, 1)).toEqual([{ attemptId, index: 0, bytes: 4 }]);
    expect(await t.store.logs.recordImported(attemptId, 0, ARCHIVE)).toBe(true);
    expect(await t.store.logs.recordImported(attemptId, 0, { ...ARCHIVE, sha256: 'b'.repeat(64) })).toBe(false);
    expect(await t.store.logs.legacyLogs(null, 10)).toEqual([{ attemptId, index: 1, bytes: 4 }]);
    const [step] = await t.store.jobs.stepsOf(attemptId);
    expect(JSON.parse(step?.log_archive ?? 'null')).toEqual(ARCHIVE);
  });

  it('lists the attempts that are over with logs not compacted, those ended before a time when asked', async () => {
    await push(t);
    await push(t);
    const done = await claimJob(t, 'w1');
    const running = await claimJob(t, 'w2');
    for (const { attemptId } of [done, running]) {
      await startStep(t, attemptId, 0);
      await startStep(t, attemptId, 1);
    }
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([]);
    await finish(t, done.attemptId, 'success');
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([done.attemptId]);
    expect(await t.store.logs.attemptsWithRawLogs(t.clock.now)).toEqual([]);
    expect(await t.store.logs.attemptsWithRawLogs(t.clock.now + 1)).toEqual([done.attemptId]);
    await t.store.logs.recordCompacted(done.attemptId, 0, 0, null);
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([done.attemptId]);
    await t.store.logs.recordCompacted(done.attemptId, 1, 0, null);
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([]);
  });
});
