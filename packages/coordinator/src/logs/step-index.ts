import { FRAME_HEADER_BYTES, FrameDecoder, type LogErrorLine } from '@switchyard/protocol';
import { LineScanner, NEWLINE_BYTES } from './line-scanner.ts';

/** Frame bytes between two checkpoints: reading any line decodes at most this much it then skips. */
export const CHECKPOINT_BYTES = 64 * 1024;
/** The layout of a stored index; one of another layout is not read (its log is indexed as before). */
export const STEP_INDEX_FORMAT = 1;

/**
 * A compacted step's log as numbered lines, stored beside its archive: built once, by the
 * coordinator that compacts the log, as the frames go by on their way into the archive.
 * Line numbers are the step's own (1 is its first line); LogTexts places the step in its
 * attempt. `errors` are those of the pattern `errorPattern` (source/flags) only.
 */
export interface StepIndex {
  format: number;
  /** The frame bytes indexed: the step's whole log. */
  bytes: number;
  lineCount: number;
  /** Bytes of text (the newlines that end a header's line or the step's last included). */
  textBytes: number;
  errorPattern: string;
  errors: LogErrorLine[];
  errorsTruncated: boolean;
  /**
   * Where decoding may start, as triples: a frame's offset in the log, the lines started before
   * it, and 1 when it starts a line (0 when the line `lines` goes on in it). The first is (0, 0, 1).
   */
  checkpoints: number[];
}

/** How a stored index names the error pattern it matched: the pattern in force is compared to it. */
export function patternKey(pattern: RegExp): string {
  return `${pattern.source}/${pattern.flags}`;
}

/** A checkpoint: decode from frame `offset`, where `lines` lines have started. */
export interface Checkpoint {
  offset: number;
  lines: number;
  atLineStart: boolean;
}

/** The last checkpoint before line `line` (1-based) starts: decoding from it reaches the line. */
export function checkpointBefore(index: StepIndex, line: number): Checkpoint {
  const points = index.checkpoints;
  // Binary search over the triples' line counts, which never decrease.
  let low = 0;
  let high = points.length / 3 - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if ((points[mid * 3 + 1] as number) < line) low = mid;
    else high = mid - 1;
  }
  return {
    offset: points[low * 3] as number,
    lines: points[low * 3 + 1] as number,
    atLineStart: points[low * 3 + 2] === 1,
  };
}

/** Builds a step's StepIndex from its frames, slice by slice, as they are read once. */
export class StepIndexBuilder {
  private readonly decoder = new FrameDecoder();
  private readonly scanner: LineScanner;
  private readonly checkpoints: number[] = [];
  private frameBytes = 0;
  private lastCheckpoint = Number.NEGATIVE_INFINITY;

  constructor(private readonly errorPattern: RegExp) {
    this.scanner = new LineScanner(errorPattern);
  }

  push(slice: Buffer): void {
    for (const chunk of this.decoder.push(slice)) {
      if (this.frameBytes - this.lastCheckpoint >= CHECKPOINT_BYTES) {
        this.checkpoints.push(this.frameBytes, this.scanner.lineCount, this.scanner.atLineStart ? 1 : 0);
        this.lastCheckpoint = this.frameBytes;
      }
      if (chunk.stream === 'header') this.scanner.endLine();
      this.scanner.push(chunk.data, chunk.stream !== 'header');
      this.frameBytes += FRAME_HEADER_BYTES + chunk.data.length;
    }
  }

  /** The index of everything pushed: the step's last line ends with it. */
  finish(): StepIndex {
    this.scanner.endLine();
    if (this.checkpoints.length === 0) this.checkpoints.push(0, 0, 1);
    return {
      format: STEP_INDEX_FORMAT,
      bytes: this.frameBytes,
      lineCount: this.scanner.lineCount,
      textBytes: this.scanner.size,
      errorPattern: patternKey(this.errorPattern),
      errors: [...this.scanner.errors],
      errorsTruncated: this.scanner.errorsTruncated,
      checkpoints: this.checkpoints,
    };
  }
}

/**
 * A step's text from the checkpoint's frame on, as LogText writes it: a header chunk starts on
 * a line of its own (a newline of the index's own ends the line before it).
 */
export async function* textFrom(frames: AsyncIterable<Buffer>, checkpoint: Checkpoint): AsyncGenerator<Buffer> {
  const decoder = new FrameDecoder();
  let atLineStart = checkpoint.atLineStart;
  for await (const slice of frames) {
    for (const chunk of decoder.push(slice)) {
      if (chunk.stream === 'header' && !atLineStart) {
        yield NEWLINE_BYTES;
        atLineStart = true;
      }
      if (chunk.data.length === 0) continue;
      yield chunk.data;
      atLineStart = chunk.data[chunk.data.length - 1] === 0x0a;
    }
  }
}
