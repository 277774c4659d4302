import { ApiRequestError, type ReportEntry } from '@switchyard/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxMessage, type OutboxOptions } from './outbox.ts';

/** A logger whose lines the test can read. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function createOutbox(overrides: Partial<OutboxOptions> = {}) {
  const { logger, lines } = recordingLogger();
  const outbox = new Outbox({
    logger,
    onLeaseLost: () => {},
    backoff: { initialMs: 1, maxMs: 5 },
    ...overrides,
  });
  return { outbox, lines };
}

const networkError = () => new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:7420') });

describe('Outbox', () => {
  it('delivers in order, one at a time, retrying network errors and 5xx until each goes through', async () => {
    const { outbox, lines } = createOutbox();
    const delivered: number[] = [];
    const tries = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    for (let n = 0; n < 20; n++) {
      outbox.enqueue({
        description: `message ${n}`,
        bytes: 10,
        send: async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 1));
          inFlight--;
          const attempt = (tries.get(n) ?? 0) + 1;
          tries.set(n, attempt);
          if (n % 3 === 0 && attempt === 1) throw networkError();
          if (n % 3 === 0 && attempt === 2) throw new ApiRequestError(503, 'unavailable', 'restarting');
          delivered.push(n);
        },
      });
    }
    await outbox.idle();
    expect(delivered).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(maxInFlight).toBe(1);
    expect(tries.get(3)).toBe(3);
    expect(outbox.pendingBytes).toBe(0);
    // One warning when the trouble starts and one line when it ends, per outage.
    expect(lines.filter((line) => line.msg === 'connected again; delivering queued reports')).toHaveLength(7);
  });

  it('retries a request that does not answer in time', async () => {
    const { outbox } = createOutbox({ requestTimeoutMs: 50 });
    let tries = 0;
    outbox.enqueue({
      description: 'slow',
      bytes: 0,
      send: (signal) => {
        tries++;
        if (tries > 1) return Promise.resolve();
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    await outbox.idle();
    expect(tries).toBe(2);
  });

  it('drops a message the coordinator refuses with a 4xx, logs it, and goes on with the rest', async () => {
    const { outbox, lines } = createOutbox();
    const sent: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      outbox.enqueue({
        description: `message ${name}`,
        bytes: 0,
        send: async () => {
          sent.push(name);
          if (name === 'b') throw new ApiRequestError(400, 'invalid-request', 'name too long');
        },
      });
    }
    await outbox.idle();
    expect(sent).toEqual(['a', 'b', 'c']);
    const refusal = lines.find((line) => line.report === 'message b');
    expect(refusal).toMatchObject({ level: 50, error: '400 invalid-request: name too long' });
  });

  it('drops everything and reports it on 409 lease-lost', async () => {
    let leaseLost = 0;
    const { outbox } = createOutbox({ onLeaseLost: () => leaseLost++ });
    const sent: number[] = [];
    for (let n = 0; n < 5; n++) {
      outbox.enqueue({
        description: `message ${n}`,
        bytes: 100,
        send: async () => {
          sent.push(n);
          if (n === 1) throw new ApiRequestError(409, 'lease-lost', 'attempt 7 is no longer running here');
        },
      });
    }
    await outbox.idle();
    expect(sent).toEqual([0, 1]);
    expect(leaseLost).toBe(1);
    expect(outbox.closed).toBe(true);
    expect(outbox.pendingBytes).toBe(0);
    outbox.enqueue({ description: 'late', bytes: 1, send: async () => void sent.push(99) });
    await outbox.idle();
    expect(sent).toEqual([0, 1]);
  });

  it('is overloaded above the high-water mark and relieved at the low-water mark', async () => {
    const { outbox } = createOutbox({ highWaterBytes: 250, lowWaterBytes: 100 });
    const releases: (() => void)[] = [];
    for (let n = 0; n < 4; n++) {
      outbox.enqueue({
        description: `batch ${n}`,
        bytes: 100,
        send: () => new Promise<void>((resolve) => releases.push(resolve)),
      });
    }
    expect(outbox.overloaded).toBe(true);
    let relieved = false;
    const relief = outbox.relieved().then(() => {
      relieved = true;
    });
    for (let delivered = 0; delivered < 3; delivered++) {
      while (releases.length <= delivered) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(relieved).toBe(false);
      releases[delivered]!();
    }
    await relief;
    expect(outbox.pendingBytes).toBe(100);
    expect(outbox.overloaded).toBe(false);
    outbox.close();
  });

  it('close() aborts the request in flight and resolves whoever waits', async () => {
    const { outbox } = createOutbox();
    let aborted = false;
    outbox.enqueue({
      description: 'hanging',
      bytes: 0,
      send: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          }),
        ),
    });
    const idle = outbox.idle();
    await new Promise((resolve) => setTimeout(resolve, 5));
    outbox.close();
    await idle;
    expect(aborted).toBe(true);
  });

  describe('batches', () => {
    const at = '2026-01-05T12:00:00.000Z';
    const ended = { exitCode: 0, signal: null, timedOut: false, cancelled: false, finishedAt: at };
    /** A message that can travel in a batch; `alone` records it when sent by itself. */
    function batchable(entry: ReportEntry, alone: string[], extra: Partial<OutboxMessage> = {}): OutboxMessage {
      return {
        description: entry.kind,
        bytes: 0,
        send: async () => {
          alone.push(entry.kind);
        },
        entry: () => entry,
        ...extra,
      };
    }

    it('sends the small messages waiting at the head together, in order, and a big one alone', async () => {
      const batches: string[][] = [];
      const alone: string[] = [];
      const { outbox } = createOutbox({
        sendBatch: async (entries) => {
          batches.push(entries.map((entry) => entry.kind));
        },
      });
      // The first goes at once, alone; the rest queue behind it and go as one batch, up to the big one.
      outbox.enqueue(batchable({ kind: 'step-finished', index: 0, ...ended }, alone));
      outbox.enqueue(batchable({ kind: 'step-started', index: 1, name: 'b', startedAt: at }, alone));
      outbox.enqueue(batchable({ kind: 'log', step: 1, seq: 0, frames: '' }, alone));
      outbox.enqueue({ description: 'big log', bytes: 1024 * 1024, send: async () => void alone.push('big log') });
      outbox.enqueue(batchable({ kind: 'step-finished', index: 1, ...ended }, alone));
      await outbox.idle();
      expect(alone).toEqual(['step-finished', 'big log', 'step-finished']);
      expect(batches).toEqual([['step-started', 'log']]);
    });

    it('holds a step’s start for company, and lets it go alone when none comes in time', async () => {
      const batches: string[][] = [];
      const alone: string[] = [];
      const { outbox } = createOutbox({
        sendBatch: async (entries) => {
          batches.push(entries.map((entry) => entry.kind));
        },
      });
      outbox.enqueue(batchable({ kind: 'step-started', index: 0, name: 'a', startedAt: at }, alone, { linger: true }));
      outbox.enqueue(batchable({ kind: 'step-finished', index: 0, ...ended }, alone));
      await outbox.idle();
      outbox.enqueue(batchable({ kind: 'step-started', index: 1, name: 'b', startedAt: at }, alone, { linger: true }));
      await outbox.idle();
      expect(batches).toEqual([['step-started', 'step-finished']]);
      expect(alone).toEqual(['step-started']);
    });

    it('sends a step’s end with everything queued in the same turn after it, or hands it all off', async () => {
      const batches: string[][] = [];
      const alone: string[] = [];
      const { outbox } = createOutbox({
        sendBatch: async (entries) => {
          batches.push(entries.map((entry) => entry.kind));
        },
      });
      outbox.enqueue(batchable({ kind: 'step-started', index: 0, name: 'a', startedAt: at }, alone, { linger: true }));
      outbox.enqueue(batchable({ kind: 'log', step: 0, seq: 0, frames: '' }, alone));
      outbox.enqueue(batchable({ kind: 'step-finished', index: 0, ...ended }, alone));
      // The job runner reaches the attempt's end a few promise hops later, in the same turn.
      for (let hop = 0; hop < 5; hop++) await Promise.resolve();
      outbox.enqueue(batchable({ kind: 'attempt-finished', result: 'success', finishedAt: at }, alone));
      const handedOff = await outbox.handOff();
      expect(handedOff.map((entry) => entry.kind)).toEqual([
        'step-started',
        'log',
        'step-finished',
        'attempt-finished',
      ]);
      expect(batches).toEqual([]);
      expect(alone).toEqual([]);
    });

    it('hands off what is still queued once the request in flight is answered, and sends nothing more', async () => {
      const alone: string[] = [];
      let answer = () => {};
      const { outbox } = createOutbox({ sendBatch: async () => void alone.push('batch') });
      outbox.enqueue({
        ...batchable({ kind: 'step-finished', index: 0, ...ended }, alone),
        send: () => new Promise<void>((resolve) => (answer = resolve)),
      });
      outbox.enqueue(batchable({ kind: 'step-started', index: 1, name: 'b', startedAt: at }, alone));
      outbox.enqueue(batchable({ kind: 'attempt-finished', result: 'success', finishedAt: at }, alone));
      const handedOff = outbox.handOff();
      answer();
      expect((await handedOff).map((entry) => entry.kind)).toEqual(['step-started', 'attempt-finished']);
      expect(outbox.pendingMessages).toBe(0);
      expect(alone).toEqual([]);
    });

    it('delivers everything itself instead when a message left cannot go in a batch', async () => {
      const alone: string[] = [];
      let answer = () => {};
      const { outbox } = createOutbox({ sendBatch: async () => void alone.push('batch') });
      outbox.enqueue({
        ...batchable({ kind: 'step-finished', index: 0, ...ended }, alone),
        send: () => new Promise<void>((resolve) => (answer = resolve)),
      });
      outbox.enqueue({ description: 'big log', bytes: 1024 * 1024, send: async () => void alone.push('big log') });
      outbox.enqueue(batchable({ kind: 'attempt-finished', result: 'success', finishedAt: at }, alone));
      const handedOff = outbox.handOff();
      answer();
      expect(await handedOff).toEqual([]);
      expect(alone).toEqual(['big log', 'attempt-finished']);
    });
  });
});
