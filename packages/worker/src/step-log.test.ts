import { FrameDecoder, type LogAppendResponse, SwitchyardClient } from '@switchyard/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.ts';
import { StepLog } from './step-log.ts';
import { type OutputSink, startStep } from './step-runner.ts';

/** Takes log batches the way the coordinator would, a little slowly, and keeps them. */
class RecordingClient extends SwitchyardClient {
  readonly batches: { step: number; seq: number; frames: Buffer }[] = [];
  cancelAfter = Number.POSITIVE_INFINITY;
  delayMs = 2;

  constructor() {
    super({ server: 'http://coordinator.invalid' });
  }

  override async appendLog(_attemptId: number, step: number, seq: number, frames: Buffer): Promise<LogAppendResponse> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.batches.push({ step, seq, frames });
    return { bytes: 0, cancel: this.batches.length >= this.cancelAfter };
  }
}

function setup(highWaterBytes?: number) {
  const client = new RecordingClient();
  const outbox = new Outbox({ logger: pino({ level: 'silent' }), onLeaseLost: () => {}, highWaterBytes });
  let cancels = 0;
  const log = new StepLog({ client, attemptId: 1, stepIndex: 2, outbox, onCancel: () => cancels++ });
  return { client, outbox, log, cancels: () => cancels };
}

describe('StepLog', () => {
  it('delivers a step printing 100,000 lines complete, in order, numbered, in at most 1,000 requests', async () => {
    const { client, outbox, log } = setup();
    log.header('$ seq 1 100000\n');
    const outcome = await startStep({
      file: '/bin/sh',
      args: ['-c', 'seq 1 100000'],
      cwd: '/',
      env: { PATH: process.env.PATH },
      timeoutSeconds: 60,
      killGraceMs: 5000,
      output: log,
    }).finished;
    log.end();
    await outbox.idle();
    expect(outcome.exitCode).toBe(0);
    expect(client.batches.length).toBeLessThanOrEqual(1000);
    expect(client.batches.map((batch) => batch.seq)).toEqual(client.batches.map((_, index) => index));
    expect(client.batches.every((batch) => batch.step === 2)).toBe(true);
    const decoder = new FrameDecoder();
    const text = { header: '', stdout: '', stderr: '' };
    for (const batch of client.batches) {
      for (const chunk of decoder.push(batch.frames)) text[chunk.stream] += chunk.data.toString();
    }
    expect(text.header).toBe('$ seq 1 100000\n');
    expect(text.stdout === `${Array.from({ length: 100_000 }, (_, i) => i + 1).join('\n')}\n`).toBe(true);
    expect(text.stderr).toBe('');
  });

  it('holds the process back while the coordinator is slow, so undelivered output stays bounded', async () => {
    const highWaterBytes = 256 * 1024;
    const { client, outbox, log } = setup(highWaterBytes);
    client.delayMs = 20;
    let mostPending = 0;
    const measuringSink: OutputSink = {
      write(stream, data) {
        const goOn = log.write(stream, data);
        mostPending = Math.max(mostPending, outbox.pendingBytes);
        return goOn;
      },
      drained: () => log.drained(),
    };
    const outcome = await startStep({
      file: '/bin/sh',
      args: ['-c', 'seq 1 500000'],
      cwd: '/',
      env: { PATH: process.env.PATH },
      timeoutSeconds: 60,
      killGraceMs: 5000,
      output: measuringSink,
    }).finished;
    log.end();
    await outbox.idle();
    expect(outcome.exitCode).toBe(0);
    // Past the high-water mark the pipe is no longer read; what is already read still queues.
    expect(mostPending).toBeLessThan(highWaterBytes + 512 * 1024);
    const decoder = new FrameDecoder();
    let stdout = '';
    for (const batch of client.batches) for (const chunk of decoder.push(batch.frames)) stdout += chunk.data.toString();
    expect(stdout === `${Array.from({ length: 500_000 }, (_, i) => i + 1).join('\n')}\n`).toBe(true);
  });

  it('passes on a cancel the coordinator sends in answer to a batch', async () => {
    const { client, outbox, log, cancels } = setup();
    client.cancelAfter = 2;
    log.write('stdout', Buffer.from('one\n'));
    log.end();
    log.write('stdout', Buffer.from('two\n'));
    log.end();
    await outbox.idle();
    expect(cancels()).toBe(1);
  });
});
