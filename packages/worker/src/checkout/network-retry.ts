import { sleep } from '../sleep.ts';
import { isNetworkFailure } from './vcs-command.ts';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The unit of the backoff: robustcheckout's 1.5 s by default. */
  baseDelayMs: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs a network operation, trying again after a network failure with robustcheckout's
 * backoff: (2^n − 1) × base, plus a random 1 to 5 bases of jitter so that a fleet of workers
 * that lost the server together does not come back together. Other failures are not retried.
 */
export async function withNetworkRetries<T>(
  what: string,
  policy: RetryPolicy,
  operation: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.attempts || !isNetworkFailure(error) || policy.signal?.aborted) throw error;
      const delay = (2 ** attempt - 1) * policy.baseDelayMs + (1 + Math.random() * 4) * (policy.baseDelayMs / 1.5);
      policy.log(
        `${what}: network failure (${(error as Error).message}); try ${attempt + 1} of ${policy.attempts} in ${(delay / 1000).toFixed(1)} s`,
      );
      await sleep(delay, policy.signal);
      policy.signal?.throwIfAborted();
    }
  }
}
