import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogStream } from '@switchyard/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OutputSink, type StepProcessSpec, startStep } from './step-runner.ts';
import { diesWithin, isAlive } from './testing/process-state.ts';

/** Collects a step's output per stream, as the log would show it. */
class CollectingSink implements OutputSink {
  readonly chunks: { stream: LogStream; text: string }[] = [];

  write(stream: LogStream, data: Buffer): boolean {
    this.chunks.push({ stream, text: data.toString() });
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  text(stream: LogStream): string {
    return this.chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.text)
      .join('');
  }

  /** Resolves with the first line written to stdout, e.g. a pid the script echoes. */
  async firstLine(): Promise<string> {
    for (;;) {
      const stdout = this.text('stdout');
      if (stdout.includes('\n')) return stdout.slice(0, stdout.indexOf('\n'));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'switchyard-step-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function shell(script: string, sink: OutputSink, overrides: Partial<StepProcessSpec> = {}) {
  return startStep({
    file: '/bin/sh',
    args: ['-c', script],
    cwd: workDir,
    env: { PATH: process.env.PATH },
    timeoutSeconds: 60,
    killGraceMs: 5000,
    output: sink,
    ...overrides,
  });
}

describe('startStep', () => {
  it('reports exit codes and keeps stdout and stderr apart', async () => {
    const sink = new CollectingSink();
    const outcome = await shell('echo out; echo err >&2; exit 3', sink).finished;
    expect(outcome).toEqual({ exitCode: 3, signal: null, timedOut: false, cancelled: false, spawnError: null });
    expect(sink.text('stdout')).toBe('out\n');
    expect(sink.text('stderr')).toBe('err\n');

    expect((await shell('true', new CollectingSink()).finished).exitCode).toBe(0);
  });

  it('runs in the given directory with the given environment', async () => {
    const sink = new CollectingSink();
    const outcome = await shell('pwd; echo "$GREETING"', sink, { env: { PATH: process.env.PATH, GREETING: 'hello' } })
      .finished;
    expect(outcome.exitCode).toBe(0);
    expect(sink.text('stdout')).toBe(`${workDir}\nhello\n`);
  });

  it('reports a signal the step sent itself, neither as a timeout nor as a cancel', async () => {
    const outcome = await shell('kill -KILL $$', new CollectingSink()).finished;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, cancelled: false });
  });

  it('kills the whole process group on timeout, background grandchildren included', async () => {
    const sink = new CollectingSink();
    const step = shell('sleep 300 & echo $!; wait', sink, { timeoutSeconds: 1 });
    const grandchild = Number(await sink.firstLine());
    expect(isAlive(grandchild)).toBe(true);
    const outcome = await step.finished;
    expect(outcome).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: 'SIGTERM' });
    expect(await diesWithin(grandchild, 2000)).toBe(true);
    expect(sink.text('header')).toBe('timed out after 1 s; killing process group\n');
  });

  it('kills the whole process group on cancel, background grandchildren included', async () => {
    const sink = new CollectingSink();
    const step = shell('sleep 300 & echo $!; wait', sink);
    const grandchild = Number(await sink.firstLine());
    step.cancel('the job was cancelled');
    const outcome = await step.finished;
    expect(outcome).toMatchObject({ timedOut: false, cancelled: true, exitCode: null, signal: 'SIGTERM' });
    expect(await diesWithin(grandchild, 2000)).toBe(true);
    expect(sink.text('header')).toBe('the job was cancelled; killing process group\n');
  });

  it('follows SIGTERM with SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const sink = new CollectingSink();
    // Ignored signals stay ignored across exec, so the background sleep ignores SIGTERM too.
    const step = shell('trap "" TERM; sleep 300 & echo $!; wait', sink, { killGraceMs: 300 });
    const grandchild = Number(await sink.firstLine());
    step.cancel('cancelled');
    const outcome = await step.finished;
    expect(outcome).toMatchObject({ cancelled: true, signal: 'SIGKILL' });
    expect(await diesWithin(grandchild, 2000)).toBe(true);
  });

  it('ends leftovers of the group when the command exits, so they cannot hold the step open', async () => {
    const sink = new CollectingSink();
    const outcome = await shell('sleep 300 & echo $!', sink).finished;
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(await diesWithin(Number(await sink.firstLine()), 2000)).toBe(true);
  });

  it('reports a command that cannot start', async () => {
    const outcome = await startStep({
      file: join(workDir, 'no-such-program'),
      args: [],
      cwd: workDir,
      env: {},
      timeoutSeconds: 60,
      killGraceMs: 5000,
      output: new CollectingSink(),
    }).finished;
    expect(outcome.exitCode).toBeNull();
    expect(outcome.spawnError).toEqual({ message: expect.stringContaining('ENOENT'), byJob: false });
  });

  it('stops reading output while the sink is overloaded, and loses nothing', async () => {
    let pauses = 0;
    let release = () => {};
    const chunks: Buffer[] = [];
    const sink: OutputSink = {
      write(_stream, data) {
        chunks.push(data);
        return pauses > 0;
      },
      drained() {
        pauses++;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const step = shell('seq 1 200000', sink);
    while (pauses === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const seenWhilePaused = chunks.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(chunks.length).toBe(seenWhilePaused);
    release();
    const outcome = await step.finished;
    expect(outcome.exitCode).toBe(0);
    const expected = `${Array.from({ length: 200_000 }, (_, i) => i + 1).join('\n')}\n`;
    expect(Buffer.concat(chunks).toString() === expected).toBe(true);
  });
});
