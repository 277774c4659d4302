import type { AttemptResult } from '@switchyard/protocol';
import type { StepOutcome } from './step-runner.ts';

/** What the worker reports at the end of an attempt. */
export interface AttemptConclusion {
  result: AttemptResult;
  reason?: string;
  message?: string;
}

/** Something from outside the job's own commands that ends the attempt early. */
export type Interruption =
  | { kind: 'cancelled' }
  | { kind: 'lease-lost' }
  | { kind: 'lost-contact'; silentMs: number; coordinatorAway: boolean }
  | { kind: 'worker-stopped' };

/** Why the step is being killed, as the log and the attempt's message say it. */
export function describeInterruption(interruption: Interruption): string {
  switch (interruption.kind) {
    case 'cancelled':
      return 'the job was cancelled';
    case 'lease-lost':
      return 'the coordinator gave this job to another worker';
    case 'lost-contact': {
      const away = interruption.coordinatorAway ? ' (the coordinator was away)' : '';
      return `no heartbeat acknowledged for ${Math.round(interruption.silentMs / 1000)} s${away}, so the lease may have ended`;
    }
    case 'worker-stopped':
      return 'the worker is stopping';
  }
}

/**
 * The report for an interrupted attempt; null for a lost lease, which is not ours to report.
 * All of them are `exception`: none is the job's own fault. Contact lost because the
 * coordinator was away is `coordinator-unavailable`, which is not held against the worker.
 */
export function concludeInterruption(interruption: Interruption): AttemptConclusion | null {
  if (interruption.kind === 'lease-lost') return null;
  const away = interruption.kind === 'lost-contact' && interruption.coordinatorAway;
  const reason = away ? 'coordinator-unavailable' : interruption.kind;
  return { result: 'exception', reason, message: describeInterruption(interruption) };
}

/**
 * How one step's end bears on the attempt: null to go on with the next step. A non-zero exit,
 * or a signal we did not send, is the job's failure; a timeout or a process that could not even
 * start is an exception — `invalid-job` when what could not start is the job's own command or
 * environment, which benches no worker and is not retried.
 */
export function concludeStep(name: string, timeoutSeconds: number, outcome: StepOutcome): AttemptConclusion | null {
  if (outcome.spawnError?.byJob) {
    return {
      result: 'exception',
      reason: 'invalid-job',
      message: `step ${name} could not start, as its command or environment can't be run: ${outcome.spawnError.message}`,
    };
  }
  if (outcome.spawnError !== null) {
    return {
      result: 'exception',
      reason: 'spawn-failed',
      message: `step ${name} could not start: ${outcome.spawnError.message}`,
    };
  }
  if (outcome.timedOut) {
    return { result: 'exception', reason: 'timeout', message: `step ${name} timed out after ${timeoutSeconds} s` };
  }
  if (outcome.cancelled) return { result: 'exception', reason: 'cancelled', message: `step ${name} was cancelled` };
  if (outcome.signal !== null) return { result: 'failure', message: `step ${name} was killed by ${outcome.signal}` };
  if (outcome.exitCode !== 0)
    return { result: 'failure', message: `step ${name} exited with code ${outcome.exitCode}` };
  return null;
}

/** The closing line of a step's log. */
export function describeOutcome(outcome: StepOutcome): string {
  if (outcome.spawnError !== null) return `could not start: ${outcome.spawnError.message}`;
  const ending = outcome.signal !== null ? `killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
  return outcome.timedOut ? `timed out; ${ending}` : ending;
}
