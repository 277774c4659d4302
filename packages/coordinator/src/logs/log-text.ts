import type { FileHandle } from 'node:fs/promises';
import { FrameDecoder, type LogErrorLine, type LogSection, type StepState } from '@switchyard/protocol';
import type { StepRecord } from '../store/port.ts';
import { LineScanner, NEWLINE_BYTES } from './line-scanner.ts';
import type { LogReader } from './log-reader.ts';
import { stripAnsi } from './strip-ansi.ts';

/**
 * One attempt's log as numbered lines: every step's frames decoded (all streams, in order) into
 * one text file, each step starting on a line of its own, with the byte offset of every line
 * kept in memory (8 bytes a line: 8 MB for a million lines). Built once by reading the log
 * through, then extended with whatever a running attempt wrote since, so reading lines 999,000
 * to 999,100 is one positioned read, not a decompression of everything before them.
 *
 * Invariants: `lineStarts[0..lineCount)` are increasing offsets into the first `bytes` bytes of
 * the file; a line ends at its newline (kept in the file) or, for the last, at `bytes`.
 */
export class LogText {
  private lineStarts = new Float64Array(1024);
  private readonly scanner: LineScanner;
  private readonly sectionList: LogSection[] = [];
  /** Where reading stopped: the step being read and how far into its frame bytes. */
  private step: { idx: number; offset: number; decoder: FrameDecoder; section: LogSection } | null = null;
  private finished = false;
  /** Appends to the text file, chained so they land in order. */
  private pendingWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly attemptId: number,
    private readonly file: FileHandle,
    private readonly reader: LogReader,
    errorPattern: RegExp,
  ) {
    this.scanner = new LineScanner(errorPattern, (offset) => this.startLine(offset));
  }

  private get lineCountSoFar(): number {
    return this.scanner.lineCount;
  }
  private get bytes(): number {
    return this.scanner.size;
  }

  get complete(): boolean {
    return this.finished;
  }
  get lineCount(): number {
    return this.lineCountSoFar;
  }
  get sections(): readonly LogSection[] {
    return this.sectionList;
  }
  get errors(): readonly LogErrorLine[] {
    return this.scanner.errors;
  }
  get errorsTruncated(): boolean {
    return this.scanner.errorsTruncated;
  }
  /** Bytes of text so far: it grows with every line, and with a line still being written. */
  get size(): number {
    return this.bytes;
  }
  /** Lines that have ended: all of them, or all but the last while it is still being written. */
  get endedLines(): number {
    return this.scanner.atLineStart ? this.lineCountSoFar : this.lineCountSoFar - 1;
  }

  /**
   * Reads what the steps hold beyond what was read before. `attemptOver`: the attempt has ended,
   * so once every step is read the text is complete and never read again.
   */
  async extend(steps: readonly StepRecord[], attemptOver: boolean): Promise<void> {
    const ordered = [...steps].sort((a, b) => a.idx - b.idx);
    for (const record of ordered) {
      if (this.step && record.idx < this.step.idx) continue;
      if (this.step === null || record.idx > this.step.idx) {
        if (this.step) this.closeStep();
        this.step = { idx: record.idx, offset: 0, decoder: new FrameDecoder(), section: this.openSection(record) };
      }
      const current = this.step;
      this.updateSection(current.section, record);
      if (record.log_bytes > current.offset) {
        await this.readStep(record, current.offset, current.decoder);
        current.offset = record.log_bytes;
      }
      this.updateSection(current.section, record);
    }
    const last = ordered.at(-1);
    const allRead = this.step === null || (last !== undefined && this.step.idx === last.idx);
    if (attemptOver && allRead) {
      if (this.step) this.closeStep();
      this.step = null;
      this.finished = true;
    }
    await this.pendingWrite;
  }

  /** Decodes a step's frames from `offset` on, wherever its log is (LogReader). */
  private async readStep(record: StepRecord, offset: number, decoder: FrameDecoder): Promise<void> {
    for await (const slice of this.reader.read(this.attemptId, record, offset, record.log_bytes)) {
      for (const chunk of decoder.push(slice)) {
        // The worker's own lines (the command, its exit) start on a line of their own.
        // and are not matched against the error patterns: `grep FAIL` is not a failure.
        if (chunk.stream === 'header') this.endLine();
        const at = this.bytes;
        this.scanner.push(chunk.data, chunk.stream !== 'header');
        await this.writeText(chunk.data, at);
      }
    }
  }

  /** Lines `from` to `to` (1-based, inclusive, clamped to the log), newlines and carriage returns removed. */
  async lines(from: number, to: number): Promise<string[]> {
    await this.pendingWrite;
    const last = Math.min(to, this.lineCountSoFar);
    if (from > last) return [];
    const start = this.lineStarts[from - 1] as number;
    const end = last < this.lineCountSoFar ? (this.lineStarts[last] as number) : this.bytes;
    const buffer = Buffer.allocUnsafe(end - start);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await this.file.read(buffer, read, buffer.length - read, start + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const text = buffer.subarray(0, read).toString('utf8');
    const lines = text.split('\n');
    if (text.endsWith('\n')) lines.pop();
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** Every line (1-based) for which `matches` holds, up to `limit` of them, reading the file through once. */
  async search(matches: (line: string) => boolean, limit: number): Promise<{ lines: number[]; truncated: boolean }> {
    await this.pendingWrite;
    const found: number[] = [];
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let position = 0;
    let lineNumber = 1;
    let carry = '';
    const decoder = new TextDecoder();
    while (position < this.bytes) {
      const { bytesRead } = await this.file.read(chunk, 0, Math.min(chunk.length, this.bytes - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const text = carry + decoder.decode(chunk.subarray(0, bytesRead), { stream: position < this.bytes });
      const lines = text.split('\n');
      carry = lines.pop() as string;
      for (const line of lines) {
        if (matches(stripAnsi(line))) {
          found.push(lineNumber);
          if (found.length >= limit) return { lines: found, truncated: true };
        }
        lineNumber += 1;
      }
    }
    if (carry !== '' && matches(stripAnsi(carry))) found.push(lineNumber);
    return { lines: found, truncated: false };
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private openSection(record: StepRecord): LogSection {
    const section: LogSection = {
      step: record.idx,
      name: record.name,
      state: record.state as StepState,
      exitCode: record.exit_code,
      durationMs: null,
      firstLine: this.lineCountSoFar + 1,
      lineCount: 0,
    };
    this.sectionList.push(section);
    return section;
  }

  private updateSection(section: LogSection, record: StepRecord): void {
    section.state = record.state as StepState;
    section.exitCode = record.exit_code;
    section.durationMs = record.finished_at === null ? null : record.finished_at - record.started_at;
    section.lineCount = this.lineCountSoFar - section.firstLine + 1;
  }

  /** A step's last line ends with the step, newline or not: the next step starts on a line of its own. */
  private closeStep(): void {
    this.endLine();
  }

  /** Ends the line being written, if one is, with a newline of the index's own. */
  private endLine(): void {
    const at = this.bytes;
    if (this.scanner.endLine()) void this.writeText(NEWLINE_BYTES, at);
  }

  /** Appends to the text file at `at` (where the scanner's text was before it), chained so writes land in order. */
  private writeText(data: Buffer, at: number): Promise<void> {
    this.pendingWrite = this.pendingWrite.then(async () => {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await this.file.write(data, written, data.length - written, at + written);
        written += bytesWritten;
      }
    });
    return this.pendingWrite;
  }

  private startLine(offset: number): void {
    // Called as the scanner counts the line: it is line `lineCountSoFar + 1`, at index `lineCountSoFar`.
    const index = this.lineCountSoFar;
    if (index === this.lineStarts.length) {
      const grown = new Float64Array(this.lineStarts.length * 2);
      grown.set(this.lineStarts);
      this.lineStarts = grown;
    }
    this.lineStarts[index] = offset;
  }
}
