import type { LogErrorLine } from '@switchyard/protocol';
import { stripAnsi } from './strip-ansi.ts';

/** A chunk's text as its lines are matched: without escape sequences or carriage returns. */
function chunkText(data: Buffer): string {
  const text = stripAnsi(data.toString('utf8'));
  return text.includes('\r') ? text.replaceAll('\r', '') : text;
}

/** Like Treeherder's MAX_ERROR_LINES, but higher: n/p walks them all, and the grid shows the first few. */
export const MAX_ERRORS = 1000;
/** An error line is matched and shown by its first bytes: a 50 MB minified line is not a message. */
const MATCHED_BYTES = 4096;
const SHOWN_CHARACTERS = 500;
const NEWLINE = 0x0a;
export const NEWLINE_BYTES = Buffer.from('\n');

/**
 * Numbers a log's lines and picks its error lines as its text goes by, keeping none of it: the
 * decisions behind both the line index a coordinator builds on first reading a log (LogText) and
 * the one stored with a compacted log (StepIndexBuilder), so the two agree line for line.
 *
 * The text is every chunk's data in order; a header chunk (the worker's own words) starts on a
 * line of its own and is not matched against the error pattern: `grep FAIL` is not a failure.
 */
export class LineScanner {
  private lines = 0;
  private textBytes = 0;
  private atStart = true;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly errorList: LogErrorLine[] = [];
  private errorsCut = false;
  /** Whether the line being read is output (matched) or the worker's own words (not). */
  private matchErrors = true;
  /** The error pattern with ^ and $ at every line, for testing a chunk of many lines at once. */
  private readonly chunkPattern: RegExp;

  constructor(
    private readonly errorPattern: RegExp,
    /** Told where each line starts in the text, as it starts. */
    private readonly lineStarted: (offset: number) => void = () => undefined,
  ) {
    this.chunkPattern = new RegExp(errorPattern.source, 'm');
  }

  get lineCount(): number {
    return this.lines;
  }
  /** Bytes of text so far, the newlines `endLine` added included. */
  get size(): number {
    return this.textBytes;
  }
  get atLineStart(): boolean {
    return this.atStart;
  }
  get errors(): readonly LogErrorLine[] {
    return this.errorList;
  }
  get errorsTruncated(): boolean {
    return this.errorsCut;
  }

  /**
   * Ends the line being written, if one is: true when the text needs a newline of the index's
   * own (before a header chunk, and at the end of a step, whose last line ends with it).
   */
  endLine(): boolean {
    if (this.atStart) return false;
    this.textBytes += 1;
    this.finishLine();
    return true;
  }

  /** Scans a chunk of text; `matchErrors`: output, not the worker's header. */
  push(data: Buffer, matchErrors: boolean): void {
    this.matchErrors = matchErrors;
    // One multiline test over the whole chunk rules out every line in it at once, which is most
    // chunks of most logs; only a chunk that matches has its lines tried one by one. Any line
    // that matches on its own also matches here (its text is a stretch of the chunk's between
    // newlines), so nothing is missed.
    const chunkMayMatch = matchErrors && this.chunkPattern.test(chunkText(data));
    let index = 0;
    while (index < data.length) {
      if (this.atStart) {
        this.lineStarted(this.textBytes + index);
        this.lines += 1;
        this.atStart = false;
      }
      const newline = data.indexOf(NEWLINE, index);
      if (newline < 0) {
        this.keepForMatching(data.subarray(index));
        break;
      }
      if (this.partialBytes === 0) {
        // The whole line is in this chunk (the usual case): no copy, and no match to try
        // unless the chunk has one.
        if (chunkMayMatch) this.matchLine(data.toString('utf8', index, Math.min(newline, index + MATCHED_BYTES)));
        else this.atStart = true;
      } else {
        this.keepForMatching(data.subarray(index, newline));
        this.finishLine();
      }
      index = newline + 1;
    }
    this.textBytes += data.length;
  }

  private keepForMatching(bytes: Buffer): void {
    if (this.partialBytes >= MATCHED_BYTES || bytes.length === 0) return;
    const kept = bytes.subarray(0, MATCHED_BYTES - this.partialBytes);
    this.partial.push(Buffer.from(kept));
    this.partialBytes += kept.length;
  }

  private finishLine(): void {
    const text = Buffer.concat(this.partial, this.partialBytes).toString('utf8');
    this.partial = [];
    this.partialBytes = 0;
    this.matchLine(text);
  }

  /** The line just ended (the last one started): is it an error? */
  private matchLine(raw: string): void {
    this.atStart = true;
    const text = stripAnsi(raw).replace(/\r$/, '');
    if (!this.matchErrors || this.errorsCut || !this.errorPattern.test(text)) return;
    if (this.errorList.length >= MAX_ERRORS) {
      this.errorsCut = true;
      return;
    }
    this.errorList.push({ line: this.lines, text: text.slice(0, SHOWN_CHARACTERS) });
  }
}
