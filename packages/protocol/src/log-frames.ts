/**
 * The log wire and storage format. A log is a sequence of frames, each one byte naming the
 * stream, four bytes of big-endian length, then that many bytes of output. The worker sends
 * frames, the coordinator validates and appends them to the step's file unchanged, and readers
 * decode them. Binary frames keep ingestion a copy: no JSON escaping of build output.
 */
export const LOG_STREAMS = { stdout: 0x6f, stderr: 0x65, header: 0x68 } as const; // 'o', 'e', 'h'
export type LogStream = keyof typeof LOG_STREAMS;

export const FRAME_HEADER_BYTES = 5;
export const LOG_CONTENT_TYPE = 'application/vnd.switchyard.log-frames';

const STREAM_BY_TAG = new Map<number, LogStream>(
  Object.entries(LOG_STREAMS).map(([name, tag]) => [tag, name as LogStream]),
);

export function encodeFrame(stream: LogStream, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + data.length);
  frame[0] = LOG_STREAMS[stream];
  frame.writeUInt32BE(data.length, 1);
  data.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Checks a whole buffer of frames; returns an error message or null. */
export function validateFrames(buf: Buffer): string | null {
  let offset = 0;
  while (offset < buf.length) {
    if (offset + FRAME_HEADER_BYTES > buf.length) return `truncated frame header at byte ${offset}`;
    if (!STREAM_BY_TAG.has(buf[offset] as number)) return `unknown stream tag ${buf[offset]} at byte ${offset}`;
    const length = buf.readUInt32BE(offset + 1);
    offset += FRAME_HEADER_BYTES + length;
    if (offset > buf.length) return `frame at byte ${offset - length - FRAME_HEADER_BYTES} runs past the end`;
  }
  return null;
}

export interface LogChunk {
  stream: LogStream;
  data: Buffer;
}

/**
 * Incremental decoder: feed it any slices of a frame sequence and it yields complete chunks,
 * keeping a partial frame for the next call.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(slice: Buffer): LogChunk[] {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, slice]) : slice;
    const chunks: LogChunk[] = [];
    let offset = 0;
    while (offset + FRAME_HEADER_BYTES <= buf.length) {
      const length = buf.readUInt32BE(offset + 1);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > buf.length) break;
      const stream = STREAM_BY_TAG.get(buf[offset] as number) ?? 'header';
      chunks.push({ stream, data: buf.subarray(offset + FRAME_HEADER_BYTES, end) });
      offset = end;
    }
    this.pending = offset < buf.length ? Buffer.from(buf.subarray(offset)) : Buffer.alloc(0);
    return chunks;
  }
}
