import type { LogStream, SwitchyardClient } from '@switchyard/protocol';
import { LogBuffer } from './log-buffer.ts';
import type { Outbox } from './outbox.ts';
import type { OutputSink } from './step-runner.ts';

export interface StepLogOptions {
  client: SwitchyardClient;
  attemptId: number;
  stepIndex: number;
  outbox: Outbox;
  /** The coordinator said, in answer to a log batch, that the job was cancelled. */
  onCancel: () => void;
}

/** A log batch up to this size may go as an entry of a batched report (base64 in JSON). */
const MAX_BATCHED_LOG_BYTES = 64 * 1024;

/**
 * One step's log on its way to the coordinator: output is batched by a `LogBuffer`, and each
 * batch becomes an `appendLog` message in the attempt's outbox, numbered 0, 1, 2… so that a
 * batch repeated after a timeout is recognised and ignored by the coordinator.
 *
 * When the outbox holds more than its high-water mark (the coordinator is away or slow), `write`
 * returns false and the step runner stops reading the process's output until the outbox has
 * drained: the pipes fill up and the build blocks, rather than the worker's memory growing.
 */
export class StepLog implements OutputSink {
  private readonly buffer: LogBuffer;
  private nextSeq = 0;

  constructor(private readonly options: StepLogOptions) {
    this.buffer = new LogBuffer((frames) => this.enqueue(frames));
  }

  write(stream: LogStream, data: Buffer): boolean {
    this.buffer.push(stream, data);
    return !this.options.outbox.overloaded;
  }

  /** A line of our own in the log: the command, why it was killed, how it ended. */
  header(text: string): void {
    this.buffer.push('header', Buffer.from(text));
  }

  drained(): Promise<void> {
    return this.options.outbox.relieved();
  }

  /** Sends what is still buffered; call it once the step's process is done. */
  end(): void {
    this.buffer.flush();
  }

  private enqueue(frames: Buffer): void {
    const { client, attemptId, stepIndex, outbox, onCancel } = this.options;
    const seq = this.nextSeq++;
    outbox.enqueue({
      description: `log step ${stepIndex} seq ${seq}`,
      bytes: frames.length,
      send: async (signal) => {
        const response = await client.appendLog(attemptId, stepIndex, seq, frames, signal);
        if (response.cancel) onCancel();
      },
      // Small batches may travel with the step's other reports; big ones keep their binary request.
      ...(frames.length <= MAX_BATCHED_LOG_BYTES && {
        entry: () => ({ kind: 'log' as const, step: stepIndex, seq, frames: frames.toString('base64') }),
      }),
    });
  }
}
