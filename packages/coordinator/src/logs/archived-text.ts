import type { LogErrorLine, LogSection, StepState } from '@switchyard/protocol';
import type { ArchivedLog, StepRecord } from '../store/port.ts';
import { MAX_ERRORS } from './line-scanner.ts';
import { type LogArchive, readArchived } from './log-archive.ts';
import { checkpointBefore, type StepIndex, textFrom } from './step-index.ts';
import { stripAnsi } from './strip-ansi.ts';

/** A step of a finished attempt: its row, and where its log and line index are (none when it wrote nothing). */
export interface IndexedStep {
  record: StepRecord;
  stored: { log: ArchivedLog; index: StepIndex } | null;
}

/** Reads a step's stored line index (StepIndex) from the log archive. */
export async function readStepIndex(archive: LogArchive, ref: { sha256: string }): Promise<StepIndex> {
  const parts: Buffer[] = [];
  for await (const part of await archive.open(ref.sha256)) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as StepIndex;
}

/**
 * A finished attempt's log as numbered lines, from the line indexes stored with its steps'
 * archives (StepIndex) rather than built by reading the log through (LogText): the same lines,
 * sections and error lines, with nothing on this coordinator's disk. A range of lines is read
 * from the archive starting at the checkpoint before it, so only the gzip members that hold it
 * are inflated; a search reads the log through.
 */
export class ArchivedText {
  readonly complete = true;
  readonly lineCount: number;
  readonly size: number;
  readonly sections: readonly LogSection[];
  readonly errors: readonly LogErrorLine[];
  readonly errorsTruncated: boolean;
  private readonly steps: { firstLine: number; stored: IndexedStep['stored'] }[];

  constructor(
    private readonly archive: LogArchive,
    steps: readonly IndexedStep[],
  ) {
    const ordered = [...steps].sort((a, b) => a.record.idx - b.record.idx);
    let lines = 0;
    let size = 0;
    let errorsTruncated = false;
    const sections: LogSection[] = [];
    const errors: LogErrorLine[] = [];
    this.steps = [];
    for (const { record, stored } of ordered) {
      const index = stored?.index;
      const lineCount = index?.lineCount ?? 0;
      sections.push({
        step: record.idx,
        name: record.name,
        state: record.state as StepState,
        exitCode: record.exit_code,
        durationMs: record.finished_at === null ? null : record.finished_at - record.started_at,
        firstLine: lines + 1,
        lineCount,
      });
      this.steps.push({ firstLine: lines + 1, stored });
      for (const error of index?.errors ?? []) errors.push({ line: error.line + lines, text: error.text });
      errorsTruncated ||= index?.errorsTruncated ?? false;
      lines += lineCount;
      size += index?.textBytes ?? 0;
    }
    // At most MAX_ERRORS in all, as when the attempt's log is read through.
    if (errors.length > MAX_ERRORS) {
      errors.length = MAX_ERRORS;
      errorsTruncated = true;
    }
    this.lineCount = lines;
    this.size = size;
    this.sections = sections;
    this.errors = errors;
    this.errorsTruncated = errorsTruncated;
  }

  get endedLines(): number {
    return this.lineCount;
  }

  /** Lines `from` to `to` (1-based, inclusive, clamped to the log), newlines and carriage returns removed. */
  async lines(from: number, to: number): Promise<string[]> {
    const last = Math.min(to, this.lineCount);
    const found: string[] = [];
    for (const step of this.steps) {
      if (!step.stored) continue;
      const stepLast = step.firstLine + step.stored.index.lineCount - 1;
      if (stepLast < from || step.firstLine > last) continue;
      const first = Math.max(from, step.firstLine) - step.firstLine + 1;
      found.push(...(await this.stepLines(step.stored, first, Math.min(last, stepLast) - step.firstLine + 1)));
    }
    return found;
  }

  /** Lines `from` to `to` of one step (its own numbers, both within it). */
  private async stepLines(stored: NonNullable<IndexedStep['stored']>, from: number, to: number): Promise<string[]> {
    const checkpoint = checkpointBefore(stored.index, from);
    const frames = readArchived(this.archive, stored.log, checkpoint.offset, stored.index.bytes);
    let line = checkpoint.lines;
    let atLineStart = checkpoint.atLineStart;
    const kept: Buffer[] = [];
    reading: for await (const text of textFrom(frames, checkpoint)) {
      let index = 0;
      while (index < text.length) {
        if (atLineStart) {
          line += 1;
          atLineStart = false;
          if (line > to) break reading;
        }
        const newline = text.indexOf(0x0a, index);
        const end = newline < 0 ? text.length : newline + 1;
        if (line >= from) kept.push(text.subarray(index, end));
        if (newline < 0) break;
        atLineStart = true;
        index = end;
      }
    }
    return splitLines(Buffer.concat(kept).toString('utf8'));
  }

  /** Every line (1-based) for which `matches` holds, up to `limit` of them, reading the log through once. */
  async search(matches: (line: string) => boolean, limit: number): Promise<{ lines: number[]; truncated: boolean }> {
    const found: number[] = [];
    for (const step of this.steps) {
      if (!step.stored) continue;
      const frames = readArchived(this.archive, step.stored.log, 0, step.stored.index.bytes);
      const decoder = new TextDecoder();
      let lineNumber = step.firstLine;
      let carry = '';
      for await (const text of textFrom(frames, { offset: 0, lines: 0, atLineStart: true })) {
        const lines = (carry + decoder.decode(text, { stream: true })).split('\n');
        carry = lines.pop() as string;
        for (const line of lines) {
          if (matches(stripAnsi(line))) {
            found.push(lineNumber);
            if (found.length >= limit) return { lines: found, truncated: true };
          }
          lineNumber += 1;
        }
      }
      carry += decoder.decode();
      // The step's last line, which ends with the step.
      if (carry !== '' && matches(stripAnsi(carry))) {
        found.push(lineNumber);
        if (found.length >= limit) return { lines: found, truncated: true };
      }
    }
    return { lines: found, truncated: false };
  }
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}
