import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '@switchyard/protocol';
import type { JobStore } from '../store/port.ts';
import type { LogReader } from './log-reader.ts';
import { LogText } from './log-text.ts';

/** Text renderings kept at once; each costs its log's size on disk and 8 bytes a line in memory. */
const KEPT_TEXTS = 16;

export interface OpenedLog {
  jobId: number;
  /** null: the job has no attempt yet, so no log. */
  attemptNumber: number | null;
  text: LogText | null;
}

/**
 * The line-numbered logs the dashboard reads (see LogText), the most recently used ones kept: a
 * cache of this coordinator's own. Their files live in a scratch directory, unlinked once open:
 * they can always be rebuilt from the step logs (chunks or archive, LogReader), which stay the
 * truth, so each replica builds the ones its readers ask it for. Changing the error patterns (a config reload) drops them all,
 * so the error lines shown always follow the config in force.
 */
export class LogTexts {
  private readonly texts = new Map<number, Promise<LogText>>();
  /** One extension at a time per attempt: two readers of a running log must not both append. */
  private readonly extending = new Map<number, Promise<void>>();
  private patternSource = '';
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly jobs: JobStore,
    private readonly reader: LogReader,
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
    const text = await this.textOf(attempt.id);
    if (!text.complete) await this.extend(attempt.id, text);
    return { jobId, attemptNumber: attempt.number, text };
  }

  async close(): Promise<void> {
    const all = [...this.texts.values()];
    this.texts.clear();
    await Promise.allSettled(all.map(async (text) => (await text).close()));
  }

  private textOf(attemptId: number): Promise<LogText> {
    const pattern = this.errorPattern();
    if (pattern.source !== this.patternSource) {
      this.patternSource = pattern.source;
      for (const id of [...this.texts.keys()]) this.forget(id);
    }
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
