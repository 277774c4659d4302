import { Readable } from 'node:stream';
import {
  ApiError,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  isFinalJobState,
  type JobState,
  type LogAppendResponse,
  type LogStream,
  type ReportEntry,
  validateFrames,
} from '@switchyard/protocol';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Activity } from '../events/activity.ts';
import { conflict, leaseLost, StoreError } from '../store/errors.ts';
import type {
  ArchivedLog,
  CheckedIn,
  ClaimAfterReport,
  ClaimedLog,
  JobStore,
  LogStore,
  ReportRecord,
} from '../store/port.ts';
import { GzipMembers, type LogArchive, MEMBER_BYTES } from './log-archive.ts';
import type { LegacyLogFiles } from './log-files.ts';
import type { LogReader } from './log-reader.ts';
import { StepIndexBuilder } from './step-index.ts';

/** A follower looks again this often even when no wake-up came (one another process missed). */
const FOLLOW_POLL_MS = 2000;
/**
 * How long a coordinator compacting an attempt's logs holds them: far longer than gzipping and
 * storing the largest logs of an attempt, one after another, takes, so that only a coordinator
 * that died meanwhile loses them to another.
 */
const COMPACTION_HOLD_MS = 5 * 60 * 1000;
/** How often every coordinator looks for logs whose compaction was interrupted (a crash, a shutdown). */
const SWEEP_MS = 60 * 1000;
/**
 * Attempts whose logs are compacted at once. A compaction is a chain of small waits (statements,
 * file writes, flushes), each behind whatever else the event loop is doing: one at a time, a busy
 * coordinator compacted 5 logs a second while 45 jobs a second ended, and left 280–370 of 400
 * logs in the database when the last job ended.
 */
const COMPACTIONS_AT_ONCE = 4;

export interface LogServiceOptions {
  logs: LogStore;
  jobs: JobStore;
  reader: LogReader;
  archive: LogArchive;
  legacy: LegacyLogFiles;
  activity: Activity;
  maxBytesPerStep(): number;
  /** How long a cancelled attempt's worker may still send output: its logs are compacted after that. */
  graceMs(): number;
  /** The error patterns in force: a compacted log's stored line index lists the lines they match. */
  errorPattern(): RegExp;
  logger: Logger;
}

export interface LogIngestStats {
  requests: number;
  bytes: number;
}

/**
 * Log ingestion, compaction and reading. Batches of one step are applied strictly in their
 * sequence order, by the store, whichever coordinator receives them: a repeated batch is
 * acknowledged without being written again, a skipped one is refused, so a worker retrying
 * after a lost answer, on this coordinator or another, can neither lose nor double output.
 * Once a step is over its chunks are compacted into the log archive by one coordinator (the
 * one whose claim the store grants); any coordinator reads a log from wherever it is.
 */
export class LogService {
  readonly stats: LogIngestStats = { requests: 0, bytes: 0 };
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly compactionSlots = pLimit(COMPACTIONS_AT_ONCE);
  private readonly compactions = new Set<Promise<void>>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | null = null;
  private importing: Promise<void> = Promise.resolve();
  /** Look-ups that will schedule compactions (which steps, of which attempt): drain waits for them too. */
  private readonly lookingUp = new Set<Promise<void>>();
  private stopped = false;
  private readonly store: LogStore;
  private readonly jobs: JobStore;
  private readonly activity: Activity;
  private readonly logger: Logger;

  constructor(private readonly options: LogServiceOptions) {
    this.store = options.logs;
    this.jobs = options.jobs;
    this.activity = options.activity;
    this.logger = options.logger;
  }

  /**
   * Compacts the logs of attempts that ended while no one could (a crash, a shutdown), and looks
   * for such logs again every minute from now on.
   */
  async start(): Promise<void> {
    await this.sweep();
    this.sweeper = setInterval(() => {
      this.track(this.sweep(), {}, 'looking for logs to compact failed');
    }, SWEEP_MS);
    this.sweeper.unref();
    this.importing = this.importLegacy().catch((error: unknown) =>
      this.logger.error({ err: error }, 'importing the logs of <data>/logs into the log archive failed'),
    );
  }

  /**
   * Moves the logs a coordinator from before the archive gzipped into `<data>/logs` into the
   * archive, in the background, so that every replica can read them; one whose file is not on
   * this machine is left to the coordinator that has it, which reads it from there meanwhile.
   */
  private async importLegacy(): Promise<void> {
    const page = 100;
    let after: { attemptId: number; index: number } | null = null;
    for (;;) {
      const logs = await this.store.legacyLogs(after, page);
      for (const log of logs) {
        if (this.stopped) return;
        if (!(await this.options.legacy.hasGzip(log.attemptId, log.index))) continue;
        const archive = await this.archiveFrom(this.options.legacy.read(log.attemptId, log.index, true, 0, log.bytes));
        await this.store.recordImported(log.attemptId, log.index, archive);
        await this.options.legacy.removeGzip(log.attemptId, log.index);
      }
      if (logs.length < page) return;
      after = logs.at(-1) as { attemptId: number; index: number };
    }
  }

  /**
   * Stores a log in the archive as gzip members (log-archive.ts), compressed as it is read, and
   * its line index (step-index.ts) beside it, built from the same bytes: every coordinator then
   * opens the log by line without reading it through.
   */
  private async archiveFrom(source: AsyncIterable<Buffer>): Promise<ArchivedLog> {
    const indexer = new StepIndexBuilder(this.options.errorPattern());
    async function* indexed(): AsyncGenerator<Buffer> {
      for await (const slice of source) {
        indexer.push(slice);
        yield slice;
      }
    }
    const gzipped = new GzipMembers(indexed(), MEMBER_BYTES);
    // One member at a time: a long log is never held in memory whole.
    const blob = await this.options.archive.put(Readable.from(gzipped, { highWaterMark: 1 }));
    const index = await this.options.archive.put(Readable.from([Buffer.from(JSON.stringify(indexer.finish()))]));
    return {
      sha256: blob.sha256,
      size: gzipped.size,
      memberBytes: MEMBER_BYTES,
      members: gzipped.members,
      index: { sha256: index.sha256, size: index.size },
    };
  }

  private async sweep(): Promise<void> {
    const endedBefore = Date.now() - this.options.graceMs();
    for (const attemptId of await this.store.attemptsWithRawLogs(endedBefore)) this.attemptComplete(attemptId);
  }

  private serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return next;
  }

  async append(attemptId: number, step: number, seq: number, body: Buffer): Promise<LogAppendResponse> {
    const invalid = validateFrames(body);
    if (invalid) throw new ApiError('invalid-log-frames', `invalid log frames: ${invalid}`);
    return this.serialized(`${attemptId}/${step}`, async () => {
      const state = await this.store.stepLogState(attemptId, step);
      if (!state) throw conflict(`step ${step} of attempt ${attemptId} was not started`);
      if (state.attemptState !== 'running' && state.attemptState !== 'cancelled') {
        throw leaseLost({ id: attemptId, state: state.attemptState, reason: null });
      }
      const cancel = state.attemptState === 'cancelled';
      if (seq < state.seq) return { bytes: state.bytes, cancel };
      if (seq > state.seq) {
        throw new StoreError('log-sequence-gap', `expected log batch ${state.seq} of step ${step}, got ${seq}`, {
          expected: state.seq,
        });
      }
      if (state.compressed) throw conflict(`the log of step ${step} is already complete`);
      const data = this.clip(state.bytes, body);
      const stored = await this.store.append(attemptId, step, { seq, offset: state.bytes, data });
      this.stats.requests += 1;
      this.stats.bytes += data.length;
      return stored;
    });
  }

  /**
   * Applies several reports of one attempt together (`JobStore.report`): each log batch is cut to
   * the step's limit where the step's stored log ends, under the same per-step order as `append`;
   * the store then checks and records everything, chunks included, in one transaction, with the
   * check-in of the claim they came with (`claimAfter`) when they end the attempt.
   */
  async report(
    attemptId: number,
    entries: readonly ReportEntry[],
    claimAfter?: ClaimAfterReport,
  ): Promise<{ cancel: boolean; checkedIn?: CheckedIn }> {
    const bodies = new Map<ReportEntry, Buffer>();
    for (const entry of entries) {
      if (entry.kind !== 'log') continue;
      const body = Buffer.from(entry.frames, 'base64');
      const invalid = validateFrames(body);
      if (invalid) throw new ApiError('invalid-log-frames', `invalid log frames of step ${entry.step}: ${invalid}`);
      bodies.set(entry, body);
    }
    const steps = [...new Set(entries.flatMap((entry) => (entry.kind === 'log' ? [entry.step] : [])))];
    return this.serializedAll(
      steps.map((step) => `${attemptId}/${step}`),
      async () => {
        const stored = new Map<number, { bytes: number; seq: number }>();
        const startedHere = new Set(entries.flatMap((entry) => (entry.kind === 'step-started' ? [entry.index] : [])));
        for (const step of steps) {
          // A step this report starts has an empty log, so no read. (Were the report a repeat, the
          // store would find its batches stored already, with the same offsets, and keep them.)
          const state = startedHere.has(step) ? null : await this.store.stepLogState(attemptId, step);
          if (state && state.attemptState !== 'running' && state.attemptState !== 'cancelled') {
            throw leaseLost({ id: attemptId, state: state.attemptState, reason: null });
          }
          // Whether its attempt exists and still takes reports, the store's transaction checks.
          stored.set(step, state ? { bytes: state.bytes, seq: state.seq } : { bytes: 0, seq: 0 });
        }
        let written = 0;
        const records: ReportRecord[] = [];
        for (const entry of entries) {
          if (entry.kind !== 'log') {
            records.push(toReportRecord(entry));
            continue;
          }
          const log = stored.get(entry.step) as { bytes: number; seq: number };
          // Repeats and gaps are the store's to judge; only the next batch has bytes to write.
          const data = entry.seq === log.seq ? this.clip(log.bytes, bodies.get(entry) as Buffer) : Buffer.alloc(0);
          records.push({ kind: 'log', step: entry.step, seq: entry.seq, offset: log.bytes, data });
          if (entry.seq === log.seq) {
            log.bytes += data.length;
            log.seq += 1;
            written += data.length;
          }
        }
        const result = await this.jobs.report(attemptId, records, claimAfter);
        this.stats.requests += bodies.size;
        this.stats.bytes += written;
        return result;
      },
    );
  }

  /** Runs `work` holding the per-step order of every key, taken in one sorted order so two reports cannot deadlock. */
  private serializedAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...keys].sort();
    const run = (index: number): Promise<T> =>
      index === sorted.length ? work() : this.serialized(sorted[index] as string, () => run(index + 1));
    return run(0);
  }

  /**
   * Keeps a step's log at most `maxBytesPerStep` long: the batch that reaches the limit is cut
   * to fit, ending with a note saying output was dropped; later batches are dropped whole.
   */
  private clip(stored: number, body: Buffer): Buffer {
    const limit = this.options.maxBytesPerStep();
    if (stored + body.length <= limit) return body;
    if (stored >= limit) return Buffer.alloc(0);
    const note = encodeFrame(
      'header',
      Buffer.from(`\n[switchyard: log limit of ${limit} bytes reached; output dropped]\n`),
    );
    let room = limit - stored - note.length;
    const kept: Buffer[] = [];
    for (const chunk of new FrameDecoder().push(body)) {
      if (room <= FRAME_HEADER_BYTES) break;
      const data = chunk.data.subarray(0, room - FRAME_HEADER_BYTES);
      kept.push(encodeFrame(chunk.stream, data));
      room -= FRAME_HEADER_BYTES + data.length;
    }
    kept.push(note);
    return Buffer.concat(kept);
  }

  /** A step of a job's attempt (by number) is complete: compact its log in the background. */
  stepCompleteOf(jobId: number, attemptNumber: number, step: number): void {
    const lookUp = this.jobs.findAttempt(jobId, attemptNumber).then(({ attempt }) => {
      if (attempt) this.schedule(attempt.id, [step]);
    });
    this.track(lookUp, { jobId, step }, 'log compaction failed');
  }

  /** An attempt is over: compact whatever of its logs is not yet. */
  attemptComplete(attemptId: number): void {
    this.schedule(attemptId);
  }

  private track(work: Promise<void>, context: Record<string, unknown>, failure: string): void {
    const tracked = work.catch((error: unknown) => this.logger.error({ err: error, ...context }, failure));
    this.lookingUp.add(tracked);
    void tracked.then(() => this.lookingUp.delete(tracked));
  }

  /**
   * A cancelled attempt's worker may still send the killed step's last output; its logs are
   * closed when the worker reports, or after `delayMs` if it never does.
   */
  attemptCompleteLater(attemptId: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      this.attemptComplete(attemptId);
    }, delayMs);
    this.delayed.add(timer);
  }

  /** Compacts the attempt's logs (those of `steps`, when given) as soon as one of the compaction slots is free. */
  private schedule(attemptId: number, steps?: readonly number[]): void {
    const compaction = this.compactionSlots(() => this.compactAttempt(attemptId, steps)).catch((error: unknown) =>
      this.logger.error({ err: error, attemptId }, 'log compaction failed'),
    );
    this.compactions.add(compaction);
    void compaction.then(() => this.compactions.delete(compaction));
  }

  /**
   * The attempt's logs not yet compacted that the store's claim gives this coordinator, one
   * after another. Any coordinator may be looking at the same attempt (its sweep, or one told a
   * step finished): the claim, one statement for all of the attempt's logs, gives each log to
   * one of them, and holds them all from then on.
   */
  private async compactAttempt(attemptId: number, steps?: readonly number[]): Promise<void> {
    const claimed = await this.store.claimCompactions(attemptId, COMPACTION_HOLD_MS, steps);
    for (const log of claimed) {
      await this.serialized(`${attemptId}/${log.idx}`, () => this.compact(attemptId, log)).catch((error: unknown) =>
        this.logger.error({ err: error, attemptId, step: log.idx }, 'log compaction failed'),
      );
    }
  }

  /**
   * Moves a finished step's log from its chunks into the archive: gzipped on its way into a
   * blob, then named on the step's row as the chunks are deleted, atomically. Only
   * the bytes there were when the log was claimed are compacted: if more came since, the record
   * is refused and the log is compacted again once the hold runs out. A coordinator that dies
   * midway leaves the chunks in place (and perhaps a blob no row names, which the next
   * compaction of the same bytes stores again under the same digest); its claim runs out and
   * another coordinator's sweep compacts the log again from the start.
   */
  private async compact(attemptId: number, log: ClaimedLog): Promise<void> {
    const archive =
      log.log_bytes > 0 ? await this.archiveFrom(this.options.reader.read(attemptId, log, 0, log.log_bytes)) : null;
    if (await this.store.recordCompacted(attemptId, log.idx, log.log_bytes, archive)) {
      await this.options.legacy.removeRaw(attemptId, log.idx);
    }
  }

  /**
   * Stops the sweep and the import and waits for pending compactions, for an orderly shutdown;
   * the others' sweeps or the next start do the rest.
   */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    // A look-up in flight schedules more compactions: wait until none is left.
    while (this.lookingUp.size > 0) await Promise.all(this.lookingUp);
    await Promise.all([...this.compactions, this.importing]);
  }

  /**
   * Writes an attempt's log as text, step by step. With `follow`, keeps going as output arrives
   * and moves on to the job's next attempt after a retry, until the job is final.
   */
  async render(
    jobId: number,
    attemptNumber: number | undefined,
    options: { follow: boolean; stream?: LogStream; signal: AbortSignal; write: (text: Buffer) => Promise<void> },
  ): Promise<void> {
    let number = attemptNumber;
    for (;;) {
      let found = await this.jobs.findAttempt(jobId, number);
      while (!found.attempt) {
        if (!options.follow || isFinalJobState(found.job.state as JobState)) return;
        await this.waitForJobChange(found.job.id, options.signal);
        if (options.signal.aborted) return;
        found = await this.jobs.findAttempt(jobId, number);
      }
      const attempt = found.attempt;
      await this.renderAttempt(jobId, attempt.id, options);
      if (!options.follow || options.signal.aborted || attemptNumber !== undefined) return;
      // The attempt is over; follow the job into its next attempt, if it gets one.
      for (;;) {
        const job = await this.jobs.jobState(jobId);
        if (!job || isFinalJobState(job.state as JobState)) return;
        if (job.attempt_count > attempt.number) break;
        await this.waitForJobChange(jobId, options.signal);
        if (options.signal.aborted) return;
      }
      const ended = await this.jobs.attemptState(attempt.id);
      await options.write(
        Buffer.from(
          `\n[switchyard: attempt ${attempt.number} ended in ${ended?.state}${ended?.reason ? ` (${ended.reason})` : ''}; following attempt ${attempt.number + 1}]\n`,
        ),
      );
      number = attempt.number + 1;
    }
  }

  private async renderAttempt(
    jobId: number,
    attemptId: number,
    options: { follow: boolean; stream?: LogStream; signal: AbortSignal; write: (text: Buffer) => Promise<void> },
  ): Promise<void> {
    let stepIndex = 0;
    let offset = 0;
    let decoder = new FrameDecoder();
    while (!options.signal.aborted) {
      const changed = this.activity.nextChange({ jobId, attemptId }, options.signal, FOLLOW_POLL_MS);
      const steps = await this.jobs.stepsOf(attemptId);
      const step = steps.find((s) => s.idx === stepIndex);
      const attempt = await this.jobs.attemptState(attemptId);
      const attemptOver = attempt?.state !== 'running';
      if (step) {
        if (step.log_bytes > offset) {
          for await (const slice of this.options.reader.read(attemptId, step, offset, step.log_bytes)) {
            for (const chunk of decoder.push(slice)) {
              if (options.stream === undefined || chunk.stream === options.stream) await options.write(chunk.data);
            }
            if (options.signal.aborted) return;
          }
          offset = step.log_bytes;
        }
        const stepOver = step.finished_at !== null || attemptOver;
        if (stepOver && offset >= step.log_bytes) {
          const next = steps.find((s) => s.idx > stepIndex);
          if (next) {
            stepIndex = next.idx;
            offset = 0;
            decoder = new FrameDecoder();
            continue;
          }
        }
      }
      if (!options.follow) return;
      const allShown = !step || (offset >= step.log_bytes && !steps.some((s) => s.idx > stepIndex));
      if (attemptOver && allShown) return;
      await changed;
    }
  }

  private waitForJobChange(jobId: number, signal: AbortSignal): Promise<void> {
    return this.activity.nextChange({ jobId }, signal, FOLLOW_POLL_MS);
  }
}

/** A report other than a log batch, as the store takes it. */
function toReportRecord(entry: Exclude<ReportEntry, { kind: 'log' }>): ReportRecord {
  switch (entry.kind) {
    case 'step-started': {
      const { kind, index, ...request } = entry;
      return { kind, index, request };
    }
    case 'step-finished': {
      const { kind, index, ...request } = entry;
      return { kind, index, request };
    }
    case 'attempt-finished': {
      const { kind, ...request } = entry;
      return { kind, request };
    }
  }
}
