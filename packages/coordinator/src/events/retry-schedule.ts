import type { RetryPolicy } from '../config/events-config.ts';

/**
 * When to try a failed delivery again: the first retry after `firstMs`, each next one twice as
 * late, at most `maxMs` apart, and the last one when `giveUpMs` since the first attempt is up.
 * null: that time is up, so the delivery has failed for good.
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  firstAttemptAt: number,
  attempts: number,
  now: number,
): number | null {
  const deadline = firstAttemptAt + policy.giveUpMs;
  if (now >= deadline) return null;
  const delay = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.max(0, attempts - 1));
  return Math.min(now + delay, deadline);
}
