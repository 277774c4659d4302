import { encodeFrame, FrameDecoder, type LogChunk } from '@switchyard/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogBuffer, type Scheduler } from './log-buffer.ts';

function decode(batch: Buffer): LogChunk[] {
  return new FrameDecoder().push(batch);
}

/** A scheduler the test fires by hand, recording what was asked of it. */
function manualScheduler() {
  const armed: { callback: () => void; delayMs: number; cancelled: boolean }[] = [];
  const schedule: Scheduler = (callback, delayMs) => {
    const timer = { callback, delayMs, cancelled: false };
    armed.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  const fire = () => {
    for (const timer of armed.splice(0)) if (!timer.cancelled) timer.callback();
  };
  return { armed, schedule, fire };
}

describe('LogBuffer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes as soon as 64 KiB are waiting, and not before', () => {
    const batches: Buffer[] = [];
    const buffer = new LogBuffer((frames) => batches.push(frames), { schedule: manualScheduler().schedule });
    const chunk = Buffer.alloc(1000, 'x');
    for (let i = 0; i < 65; i++) buffer.push('stdout', chunk);
    expect(batches).toHaveLength(0);
    buffer.push('stdout', chunk);
    expect(batches).toHaveLength(1);
    const chunks = decode(batches[0]!);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.data.length).toBe(66_000);
  });

  it('flushes 250 ms after the first unsent byte, however little is waiting', () => {
    vi.useFakeTimers();
    const batches: Buffer[] = [];
    const buffer = new LogBuffer((frames) => batches.push(frames));
    buffer.push('stdout', Buffer.from('first\n'));
    vi.advanceTimersByTime(200);
    buffer.push('stdout', Buffer.from('second\n'));
    vi.advanceTimersByTime(49);
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(1);
    expect(decode(batches[0]!)[0]!.data.toString()).toBe('first\nsecond\n');
    vi.advanceTimersByTime(10_000);
    expect(batches).toHaveLength(1);
  });

  it('arms one timer per batch, at its first byte, and disarms it when the batch leaves early', () => {
    const scheduler = manualScheduler();
    const batches: Buffer[] = [];
    const buffer = new LogBuffer((frames) => batches.push(frames), { schedule: scheduler.schedule });
    buffer.push('stdout', Buffer.from('a'));
    buffer.push('stdout', Buffer.from('b'));
    expect(scheduler.armed.map((timer) => timer.delayMs)).toEqual([250]);
    buffer.flush();
    expect(scheduler.armed[0]!.cancelled).toBe(true);
    scheduler.fire();
    expect(batches).toHaveLength(1);
    buffer.push('stderr', Buffer.from('c'));
    expect(scheduler.armed).toHaveLength(1);
    scheduler.fire();
    expect(batches).toHaveLength(2);
  });

  it('merges adjacent chunks of the same stream into one frame, keeping the order of streams', () => {
    const batches: Buffer[] = [];
    const buffer = new LogBuffer((frames) => batches.push(frames), { schedule: manualScheduler().schedule });
    buffer.push('header', Buffer.from('$ make\n'));
    buffer.push('stdout', Buffer.from('a'));
    buffer.push('stdout', Buffer.from('b'));
    buffer.push('stderr', Buffer.from('c'));
    buffer.push('stderr', Buffer.from('d'));
    buffer.push('stdout', Buffer.from('e'));
    buffer.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual(
      Buffer.concat([
        encodeFrame('header', Buffer.from('$ make\n')),
        encodeFrame('stdout', Buffer.from('ab')),
        encodeFrame('stderr', Buffer.from('cd')),
        encodeFrame('stdout', Buffer.from('e')),
      ]),
    );
  });

  it('sends 100,000 short lines complete and in order in at most 1,000 batches, streams kept apart', () => {
    vi.useFakeTimers();
    const batches: Buffer[] = [];
    const buffer = new LogBuffer((frames) => batches.push(frames));
    const expected = { stdout: [] as string[], stderr: [] as string[] };
    const sequence: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const stream = i % 7 === 0 ? 'stderr' : 'stdout';
      const line = `${stream} line ${i}\n`;
      expected[stream].push(line);
      sequence.push(line);
      buffer.push(stream, Buffer.from(line));
      // Output trickles in over time, so the 250 ms timer fires too, not only the size limit.
      if (i % 100 === 0) vi.advanceTimersByTime(30);
    }
    buffer.flush();
    expect(batches.length).toBeLessThanOrEqual(1000);
    const decoder = new FrameDecoder();
    const received = { stdout: '', stderr: '' } as Record<string, string>;
    let inOrder = '';
    for (const batch of batches) {
      for (const chunk of decoder.push(batch)) {
        received[chunk.stream] += chunk.data.toString();
        inOrder += chunk.data.toString();
      }
    }
    expect(received.stdout).toBe(expected.stdout.join(''));
    expect(received.stderr).toBe(expected.stderr.join(''));
    expect(inOrder).toBe(sequence.join(''));
  });

  it('never makes a batch larger than the body limit, splitting a huge chunk', () => {
    const batches: Buffer[] = [];
    const buffer = new LogBuffer((frames) => batches.push(frames), {
      maxBatchBytes: 1024 * 1024,
      flushBytes: 4 * 1024 * 1024,
      schedule: manualScheduler().schedule,
    });
    const huge = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < huge.length; i++) huge[i] = i % 251;
    buffer.push('stdout', Buffer.from('before'));
    buffer.push('stdout', huge);
    buffer.flush();
    expect(batches.length).toBe(4);
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(1024 * 1024);
    const data = Buffer.concat(batches.flatMap((batch) => decode(batch).map((chunk) => chunk.data)));
    // Buffer.equals: a deep toEqual over megabytes takes seconds.
    expect(data.equals(Buffer.concat([Buffer.from('before'), huge]))).toBe(true);
  });

  it('does not call back when there is nothing to send', () => {
    const onFlush = vi.fn();
    const buffer = new LogBuffer(onFlush);
    buffer.flush();
    buffer.push('stdout', Buffer.alloc(0));
    buffer.flush();
    expect(onFlush).not.toHaveBeenCalled();
  });
});
