import type { AttemptState } from '@switchyard/protocol';
import { benchDurationMs } from './worker-health.ts';

/**
 * Exceptions that say nothing about the machine's health, so they don't bench it: the job's own
 * timeout, a job whose command or environment no machine could run, an operator stopping
 * the worker mid-job, and the coordinator or the signing service being away or failing while
 * the worker needed it (a restart that outlasted a transfer's or a heartbeat's patience): every
 * worker would have fared the same.
 */
export const NOT_THE_MACHINES_FAULT: ReadonlySet<string> = new Set([
  'timeout',
  'invalid-job',
  'worker-stopped',
  'coordinator-unavailable',
  'signer-unavailable',
]);

export interface EndedAttempt {
  state: AttemptState;
  reason: string | null;
  number: number;
  jobId: number;
}

export type WorkerLesson =
  /** Cancelled, still running, or an exception that is not the machine's fault. */
  | { kind: 'nothing' }
  /** One more exception in a row: it sits out until `benchedUntil`. */
  | { kind: 'bench'; streak: number; benchedUntil: number; reason: string }
  /** The streak ends; a success also refines its learned speed (see learned-speed.ts). */
  | { kind: 'healthy'; learnsSpeed: boolean };

/**
 * What an ended attempt teaches about its worker: an exception extends its streak and benches
 * it (10 s doubling up to 1 h); a success or an ordinary failure ends the streak.
 */
export function workerLesson(attempt: EndedAttempt, exceptionStreak: number, now: number): WorkerLesson {
  if (attempt.state === 'cancelled' || attempt.state === 'running') return { kind: 'nothing' };
  if (attempt.state === 'exception') {
    if (attempt.reason !== null && NOT_THE_MACHINES_FAULT.has(attempt.reason)) return { kind: 'nothing' };
    const streak = exceptionStreak + 1;
    return {
      kind: 'bench',
      streak,
      benchedUntil: now + benchDurationMs(streak),
      reason: `attempt ${attempt.number} of job ${attempt.jobId} ended in exception (${attempt.reason ?? 'unknown'})`,
    };
  }
  return { kind: 'healthy', learnsSpeed: attempt.state === 'success' };
}
