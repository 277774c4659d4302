import type { AttemptConclusion } from './attempt-conclusion.ts';
import type { OutputSink, RunningStep, StepOutcome } from './step-runner.ts';
import { CoordinatorUnavailable } from './transfer-retry.ts';

/** A step the worker runs itself (fetching, uploading): how it ended, beyond an exit code. */
export interface InProcessStep extends RunningStep {
  /** Once finished: null when the attempt goes on, else what ends it. */
  readonly conclusion: AttemptConclusion | null;
}

/**
 * Runs `work` as a step: logged, cancellable and reported like a command, though no process
 * is started. `work` resolves with null to go on, or with the conclusion that ends the attempt;
 * an error it throws is the worker's own failure (`worker-error`, retried elsewhere), unless
 * the coordinator was away or failing throughout (`coordinator-unavailable`, retried, and not
 * held against this worker).
 */
export function startInProcessStep(
  work: (signal: AbortSignal) => Promise<AttemptConclusion | null>,
  output: OutputSink,
): InProcessStep {
  const abort = new AbortController();
  const outcome: StepOutcome = { exitCode: null, signal: null, timedOut: false, cancelled: false, spawnError: null };
  let conclusion: AttemptConclusion | null = null;
  const finished = work(abort.signal).then(
    (result) => {
      conclusion = result;
      outcome.exitCode = result === null ? 0 : 1;
      return outcome;
    },
    (error: unknown) => {
      outcome.exitCode = 1;
      if (!abort.signal.aborted) {
        const message = (error as Error).message;
        logTo(output)(message);
        const reason = error instanceof CoordinatorUnavailable ? 'coordinator-unavailable' : 'worker-error';
        conclusion = { result: 'exception', reason, message };
      }
      return outcome;
    },
  );
  return {
    finished,
    get conclusion() {
      return conclusion;
    },
    cancel(reason) {
      if (abort.signal.aborted) return;
      outcome.cancelled = true;
      logTo(output)(`${reason}; stopping`);
      abort.abort(new Error(reason));
    },
  };
}

/** Writes whole lines of the worker's own into a step's log, as its header stream. */
export function logTo(output: OutputSink): (line: string) => void {
  return (line) => output.write('header', Buffer.from(`${line}\n`));
}
