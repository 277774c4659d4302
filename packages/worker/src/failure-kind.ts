import { ApiRequestError } from '@switchyard/protocol';

/**
 * How the worker reacts to a failed request to the coordinator:
 * - `transient`: network error, timeout or 5xx; retry with backoff until it goes through.
 * - `lease-lost`: 409 `lease-lost`; the job belongs to someone else now, stop touching it.
 * - `unauthorized`: 401/403; only an operator can fix the token, so retry slowly.
 * - `rejected`: any other 4xx; the same request would be refused again, so give it up.
 */
export type FailureKind = 'transient' | 'lease-lost' | 'unauthorized' | 'rejected';

/** Statuses below 500 that still mean "try again later". */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

export function classifyFailure(error: unknown): FailureKind {
  if (!(error instanceof ApiRequestError)) return 'transient';
  if (error.status === 409 && error.code === 'lease-lost') return 'lease-lost';
  if (error.status === 401 || error.status === 403) return 'unauthorized';
  if (error.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(error.status)) return 'transient';
  return 'rejected';
}

/** A short description for log lines, without a stack for the expected network failures. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiRequestError) return `${error.status} ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
