import { encodeFrame, FRAME_HEADER_BYTES, type LogStream } from '@switchyard/protocol';

/** Arms a one-shot timer and returns the function that disarms it. */
export type Scheduler = (callback: () => void, delayMs: number) => () => void;

export interface LogBufferOptions {
  /** Flush as soon as this many bytes of output are waiting. */
  flushBytes?: number;
  /** Flush this long after the first unsent byte arrived, however little is waiting. */
  maxDelayMs?: number;
  /** Upper bound of one flushed batch, frame headers included: the coordinator's body limit. */
  maxBatchBytes?: number;
  schedule?: Scheduler;
}

interface Segment {
  stream: LogStream;
  parts: Buffer[];
}

const defaultSchedule: Scheduler = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
};

/**
 * The batching policy for one step's output. Sending every chunk as its own request is what
 * overloaded Buildbot's masters; Mozilla's slave-side buffer (64 KiB or a few seconds, whichever
 * came first) cut the RPC count by an order of magnitude. We keep the 64 KiB but wait only
 * 250 ms, so a live log still feels live.
 *
 * Adjacent chunks of the same stream become one frame, so a flood of short lines costs five
 * header bytes per batch rather than per line. Stream order is kept exactly.
 */
export class LogBuffer {
  private readonly flushBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxBatchBytes: number;
  private readonly schedule: Scheduler;
  private segments: Segment[] = [];
  private waitingBytes = 0;
  private batchBytes = 0;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly onFlush: (frames: Buffer) => void,
    options: LogBufferOptions = {},
  ) {
    this.flushBytes = options.flushBytes ?? 64 * 1024;
    this.maxDelayMs = options.maxDelayMs ?? 250;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.schedule = options.schedule ?? defaultSchedule;
    if (this.maxBatchBytes <= FRAME_HEADER_BYTES) throw new Error('maxBatchBytes must leave room for a frame header');
  }

  push(stream: LogStream, data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      const last = this.segments.at(-1);
      const joinsLast = last?.stream === stream;
      const room = this.maxBatchBytes - this.batchBytes - (joinsLast ? 0 : FRAME_HEADER_BYTES);
      if (room <= 0) {
        this.flush();
        continue;
      }
      const piece = data.subarray(offset, offset + room);
      offset += piece.length;
      if (joinsLast) last.parts.push(piece);
      else this.segments.push({ stream, parts: [piece] });
      this.batchBytes += piece.length + (joinsLast ? 0 : FRAME_HEADER_BYTES);
      this.waitingBytes += piece.length;
      if (this.waitingBytes >= this.flushBytes) this.flush();
    }
    if (this.waitingBytes > 0 && this.cancelTimer === null) {
      this.cancelTimer = this.schedule(() => {
        this.cancelTimer = null;
        this.flush();
      }, this.maxDelayMs);
    }
  }

  /** Sends whatever is waiting now; a no-op when nothing is. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.segments.length === 0) return;
    const frames = Buffer.concat(
      this.segments.map(({ stream, parts }) =>
        encodeFrame(stream, parts.length === 1 ? parts[0]! : Buffer.concat(parts)),
      ),
    );
    this.segments = [];
    this.waitingBytes = 0;
    this.batchBytes = 0;
    this.onFlush(frames);
  }
}
