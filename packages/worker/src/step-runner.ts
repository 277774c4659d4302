import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { LogStream } from '@switchyard/protocol';
import { guardGroup, releaseGroup } from './group-watchdog.ts';

/** Where a step's output goes. Like a Node writable: `write` returning false means "pause". */
export interface OutputSink {
  write(stream: LogStream, data: Buffer): boolean;
  /** Resolves when a paused producer may go on. */
  drained(): Promise<void>;
}

export interface StepProcessSpec {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
  /** Between SIGTERM and SIGKILL to the process group. */
  killGraceMs: number;
  output: OutputSink;
  /** Run as this user rather than the worker's own (`--run-as`; the worker is root then). */
  user?: { uid: number; gid: number } | undefined;
}

export interface StepOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** We killed it because it ran past its timeout. */
  timedOut: boolean;
  /** We killed it because `cancel` was called. */
  cancelled: boolean;
  /** Set when the process could not be started at all. */
  spawnError: SpawnError | null;
}

export interface SpawnError {
  message: string;
  /**
   * The job's own command or environment was refused (a NUL byte in it, an argument list past
   * the system's limit): any machine would refuse it, so it says nothing about this one.
   */
  byJob: boolean;
}

/** What spawn() refuses in its arguments, as opposed to what the machine lacks (memory, processes, files). */
const REFUSED_INPUT = new Set(['ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE', 'E2BIG']);

function spawnError(error: unknown): SpawnError {
  const { message, code } = error as NodeJS.ErrnoException;
  return { message, byJob: code !== undefined && REFUSED_INPUT.has(code) };
}

/** Exited by itself with status 0. */
export function stepSucceeded(outcome: StepOutcome): boolean {
  return outcome.exitCode === 0 && outcome.spawnError === null && !outcome.timedOut && !outcome.cancelled;
}

export interface RunningStep {
  /** Resolves once the process has exited and all of its output has been read. */
  readonly finished: Promise<StepOutcome>;
  /**
   * Kills the process group: SIGTERM now, SIGKILL after `graceMs` (0: SIGKILL at once).
   * `reason` goes into the log, e.g. "cancelled".
   */
  cancel(reason: string, graceMs?: number): void;
}

/**
 * After the group was SIGKILLed, output pipes still open can only belong to a process that left
 * the group (setsid); we stop waiting for it after this long so the step can end.
 */
const ESCAPED_OUTPUT_WAIT_MS = 1000;

/**
 * Runs one command as the leader of its own process group, so the whole tree it starts
 * (compilers, test runners, background `sleep`s) can be signalled at once with kill(-pid).
 *
 * A step owns its process group: when the command exits, whatever it left running in the group
 * is terminated too. That keeps one step's leftovers from holding its output pipes open (which
 * would hang the step) or from running into the next job.
 */
export function startStep(spec: StepProcessSpec): RunningStep {
  let child: ChildProcess & { stdout: Readable; stderr: Readable };
  try {
    child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.user && { uid: spec.user.uid, gid: spec.user.gid }),
    });
  } catch (error) {
    // spawn() throws for what it refuses before starting anything (a NUL byte in the
    // environment, E2BIG): the step ends there, as one whose process failed to start.
    const outcome: StepOutcome = {
      exitCode: null,
      signal: null,
      timedOut: false,
      cancelled: false,
      spawnError: spawnError(error),
    };
    return { finished: Promise.resolve(outcome), cancel() {} };
  }
  if (child.pid !== undefined) guardGroup(child.pid);
  const outputs: Readable[] = [child.stdout, child.stderr];
  const outcome: StepOutcome = { exitCode: null, signal: null, timedOut: false, cancelled: false, spawnError: null };
  let exited = false;
  let closed = false;
  let termSent = false;
  let killDeadline = Number.POSITIVE_INFINITY;
  let killTimer: NodeJS.Timeout | undefined;
  let escapedOutputTimer: NodeJS.Timeout | undefined;
  let outputPaused = false;
  let groupKilled = false;

  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the whole group is gone already. EPERM: all that is left runs as another user
      // (a setuid program), which we may not signal. Either way there is nothing more to do.
    }
  };

  const abandonEscapedOutput = () => {
    clearTimeout(escapedOutputTimer);
    escapedOutputTimer = undefined;
    // Unread output of a paused stream is still ours to deliver; resume() comes back here.
    if (!exited || !groupKilled || closed || outputPaused) return;
    escapedOutputTimer = setTimeout(() => {
      for (const stream of outputs) stream.destroy();
    }, ESCAPED_OUTPUT_WAIT_MS);
  };

  const killGroup = () => {
    clearTimeout(killTimer);
    signalGroup('SIGKILL');
    groupKilled = true;
    abandonEscapedOutput();
  };

  const terminate = (graceMs: number) => {
    if (closed) return;
    if (!termSent) {
      termSent = true;
      signalGroup('SIGTERM');
    }
    const deadline = Date.now() + graceMs;
    if (deadline >= killDeadline) return;
    killDeadline = deadline;
    clearTimeout(killTimer);
    if (graceMs <= 0) killGroup();
    else killTimer = setTimeout(killGroup, graceMs);
  };

  const header = (text: string) => spec.output.write('header', Buffer.from(text));

  const timeoutTimer = setTimeout(() => {
    if (exited) return;
    outcome.timedOut = true;
    header(`timed out after ${spec.timeoutSeconds} s; killing process group\n`);
    terminate(spec.killGraceMs);
  }, spec.timeoutSeconds * 1000);

  const pauseOutput = () => {
    outputPaused = true;
    for (const stream of outputs) stream.pause();
    void spec.output.drained().then(() => {
      outputPaused = false;
      for (const stream of outputs) stream.resume();
      abandonEscapedOutput();
    });
  };

  const forward = (stream: LogStream) => (data: Buffer) => {
    if (!spec.output.write(stream, data) && !outputPaused) pauseOutput();
  };
  child.stdout.on('data', forward('stdout'));
  child.stderr.on('data', forward('stderr'));

  child.on('exit', (code, signal) => {
    exited = true;
    clearTimeout(timeoutTimer);
    outcome.exitCode = code;
    outcome.signal = signal;
    terminate(spec.killGraceMs);
  });

  const finished = new Promise<StepOutcome>((resolve) => {
    const settle = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timeoutTimer);
      clearTimeout(escapedOutputTimer);
      // A pending SIGKILL still has to reach leftovers that closed their output and ignore
      // SIGTERM, but it must not keep the worker process alive on its own.
      killTimer?.unref();
      if (child.pid !== undefined) releaseGroup(child.pid);
      resolve(outcome);
    };
    child.on('error', (error) => {
      if (child.pid !== undefined) return;
      outcome.spawnError = spawnError(error);
      settle();
    });
    child.on('close', settle);
  });

  return {
    finished,
    cancel(reason, graceMs = spec.killGraceMs) {
      if (closed) return;
      if (!exited && !outcome.cancelled && !outcome.timedOut) {
        outcome.cancelled = true;
        header(`${reason}; killing process group\n`);
      }
      terminate(graceMs);
    },
  };
}
