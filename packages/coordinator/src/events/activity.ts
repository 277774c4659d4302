import { EventEmitter } from 'node:events';

/**
 * Wake-ups for requests held open on something changing: a log followed, a heartbeat held until
 * its job is cancelled. The change feed raises the ones committed events imply (in any process);
 * the store's log signal raises the log batches stored (in any process, LogSignal). Waiters always have a timeout, so a
 * wake-up missed costs them that long at most.
 */
export class Activity {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  jobChanged(jobId: number): void {
    this.emitter.emit(jobKey(jobId));
  }

  attemptChanged(attemptId: number): void {
    this.emitter.emit(attemptKey(attemptId));
  }

  attemptCancelled(attemptId: number): void {
    this.emitter.emit(cancelKey(attemptId));
  }

  /** Resolves at the next change of the job or the attempt (log or steps), on abort, or after `timeoutMs`. */
  nextChange(ids: { jobId: number; attemptId?: number }, signal: AbortSignal, timeoutMs: number): Promise<void> {
    const keys = [jobKey(ids.jobId)];
    if (ids.attemptId !== undefined) keys.push(attemptKey(ids.attemptId));
    return this.wait(keys, signal, timeoutMs).then(() => undefined);
  }

  /** Resolves true when the attempt is cancelled, false after `timeoutMs` or on abort. */
  cancellation(attemptId: number, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    return this.wait([cancelKey(attemptId)], signal, timeoutMs).then((outcome) => outcome === 'changed');
  }

  private wait(keys: string[], signal: AbortSignal, timeoutMs: number): Promise<'changed' | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      const finish = (outcome: 'changed' | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        for (const key of keys) this.emitter.off(key, onChange);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onChange = () => finish('changed');
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      if (signal.aborted) return finish('aborted');
      for (const key of keys) this.emitter.on(key, onChange);
      signal.addEventListener('abort', onAbort);
    });
  }
}

const jobKey = (id: number) => `job:${id}`;
const attemptKey = (id: number) => `attempt:${id}`;
const cancelKey = (id: number) => `cancel:${id}`;
