import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '@switchyard/protocol';
import type { JobStore } from '../store/port.ts';
import { ArchivedText, type IndexedStep, readStepIndex } from './archived-text.ts';
import type { LogArchive } from './log-archive.ts';
import { type LogReader, logPlace } from './log-reader.ts';
import { LogText } from './log-text.ts';
import { patternKey, STEP_INDEX_FORMAT } from './step-index.ts';

/** Text renderings kept at once; each costs its log's size on disk and 8 bytes a line in memory. */
const KEPT_TEXTS = 16;
/** Stored indexes kept at once; each costs its sections, error lines and a checkpoint per 64 KiB of log. */
const KEPT_INDEXES = 64;

/** A log as numbered lines, whether read through here (LogText) or from the indexes stored with its archives (ArchivedText). */
export type NumberedLog = LogText | ArchivedText;

export interface OpenedLog {
  jobId: number;
  /** null: the job has no attempt yet, so no log. */
  attemptNumber: number | null;
  text: NumberedLog | null;
}

/**
 * The line-numbered logs the dashboard reads. A finished attempt whose steps are all compacted
 * is read from the line indexes the compacting coordinator stored beside each archive
 * (ArchivedText): every replica opens it at once. Any other log (running, not yet compacted,
 * compacted before the indexes, or indexed for error patterns other than those in force) is
 * read through once by this coordinator (LogText), the most recently used ones kept: a cache of
 * its own, in files in a scratch directory, unlinked once open. Both can always be rebuilt
 * from the step logs (chunks or archive, LogReader), which stay the truth. Changing the error
 * patterns (a config reload) drops them all, so the error lines shown always follow the config
 * in force: a stored index of other patterns is not used, its log is read through instead.
 */
export class LogTexts {
  private readonly texts = new Map<number, Promise<LogText>>();
  private readonly indexed = new Map<number, Promise<ArchivedText | null>>();
  /** One extension at a time per attempt: two readers of a running log must not both append. */
  private readonly extending = new Map<number, Promise<void>>();
  private patternsInForce = '';
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly jobs: JobStore,
    private readonly reader: LogReader,
    private readonly archive: LogArchive,
    private readonly errorPattern: () => RegExp,
  ) {}

  async start(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  /** The job's log (the latest attempt, or `attemptNumber`), read up to what has been written so far. */
  async open(jobId: number, attemptNumber: number | undefined): Promise<OpenedLog> {
    const found = await this.jobs.findAttempt(jobId, attemptNumber);
    if (!found.attempt) {
      if (attemptNumber !== undefined) throw new ApiError('not-found', `job ${jobId} has no attempt ${attemptNumber}`);
      return { jobId, attemptNumber: null, text: null };
    }
    const attempt = found.attempt;
    if (attempt.state !== 'running') {
      const stored = await this.storedTextOf(attempt.id);
      if (stored) return { jobId, attemptNumber: attempt.number, text: stored };
    }
    const text = await this.textOf(attempt.id);
    if (!text.complete) await this.extend(attempt.id, text);
    return { jobId, attemptNumber: attempt.number, text };
  }

  async close(): Promise<void> {
    const all = [...this.texts.values()];
    this.texts.clear();
    await Promise.allSettled(all.map(async (text) => (await text).close()));
  }

  /**
   * The attempt's log from its stored indexes, or null when one is missing: a step not yet
   * compacted, compacted before the indexes, its index unreadable, or indexed for other error patterns.
   */
  private storedTextOf(attemptId: number): Promise<ArchivedText | null> {
    this.followPatterns();
    let text = this.indexed.get(attemptId);
    if (text) {
      this.indexed.delete(attemptId);
      this.indexed.set(attemptId, text);
      return text;
    }
    text = this.readStoredText(attemptId, patternKey(this.errorPattern()));
    this.indexed.set(attemptId, text);
    // A miss is not kept: the log may be compacted, and indexed, the next time.
    void text.then(
      (found) => {
        if (!found && this.indexed.get(attemptId) === text) this.indexed.delete(attemptId);
      },
      () => this.indexed.delete(attemptId),
    );
    while (this.indexed.size > KEPT_INDEXES) this.indexed.delete(this.indexed.keys().next().value as number);
    return text;
  }

  private async readStoredText(attemptId: number, pattern: string): Promise<ArchivedText | null> {
    const records = await this.jobs.stepsOf(attemptId);
    if (records.some((record) => record.log_compressed === 0)) return null;
    const steps: IndexedStep[] = [];
    for (const record of records) {
      if (record.log_bytes === 0) {
        steps.push({ record, stored: null });
        continue;
      }
      const place = logPlace(record);
      if (place.kind !== 'archive' || !place.archive.index) return null;
      // An index that cannot be read is no worse than none: the log itself, read through, stays the truth.
      const index = await readStepIndex(this.archive, place.archive.index).catch(() => null);
      if (
        !index ||
        index.format !== STEP_INDEX_FORMAT ||
        index.errorPattern !== pattern ||
        index.bytes !== record.log_bytes
      ) {
        return null;
      }
      steps.push({ record, stored: { log: place.archive, index } });
    }
    return new ArchivedText(this.archive, steps);
  }

  /** A config reload changed the error patterns: every log's error lines are to be found again. */
  private followPatterns(): void {
    const key = patternKey(this.errorPattern());
    if (key === this.patternsInForce) return;
    this.patternsInForce = key;
    for (const id of [...this.texts.keys()]) this.forget(id);
    this.indexed.clear();
  }

  private textOf(attemptId: number): Promise<LogText> {
    this.followPatterns();
    const pattern = this.errorPattern();
    let text = this.texts.get(attemptId);
    if (text) {
      // Most recently used last: eviction takes from the front.
      this.texts.delete(attemptId);
      this.texts.set(attemptId, text);
      return text;
    }
    this.sequence += 1;
    const path = join(this.dir, `${attemptId}-${this.sequence}.txt`);
    // Unlinked as soon as it is open: its bytes go when it is closed, or when the process ends.
    text = open(path, 'w+').then(async (file) => {
      await rm(path);
      return new LogText(attemptId, file, this.reader, pattern);
    });
    this.texts.set(attemptId, text);
    text.catch(() => this.texts.delete(attemptId));
    while (this.texts.size > KEPT_TEXTS) this.forget(this.texts.keys().next().value as number);
    return text;
  }

  private forget(attemptId: number): void {
    const text = this.texts.get(attemptId);
    this.texts.delete(attemptId);
    // Readers still holding it finish first: closing waits for any extension in progress.
    void text
      ?.then(async (t) => {
        await this.extending.get(attemptId);
        await t.close();
      })
      .catch(() => undefined);
  }

  private extend(attemptId: number, text: LogText): Promise<void> {
    const previous = this.extending.get(attemptId) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (text.complete) return;
      const [steps, attempt] = await Promise.all([this.jobs.stepsOf(attemptId), this.jobs.attemptState(attemptId)]);
      await text.extend(steps, attempt !== undefined && attempt.state !== 'running');
    });
    const settled = next.catch(() => undefined);
    this.extending.set(attemptId, settled);
    void settled.then(() => {
      if (this.extending.get(attemptId) === settled) this.extending.delete(attemptId);
    });
    return next;
  }
}
