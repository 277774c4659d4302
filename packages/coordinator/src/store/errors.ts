/**
 * What a store verb refuses, by kind. The store knows nothing of HTTP: `api/` alone turns these
 * into answers (see api/store-errors.ts), and other callers (the CLI's `db copy`, the simulator,
 * tests) read the kind and the details.
 */
export type StoreErrorKind =
  /** The thing named does not exist. */
  | 'not-found'
  /** It exists, but its state does not allow this (a finished job cancelled, a duplicate step). */
  | 'conflict'
  /** The attempt this report or upload belongs to has ended; its worker must stop. */
  | 'lease-lost'
  /** A worker name is held by another worker process's running attempt. */
  | 'name-in-use'
  /** The request names something the farm does not have (an unknown repo). */
  | 'invalid-input'
  /** A log batch arrived out of order: the one expected is in the details. */
  | 'log-sequence-gap';

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function notFound(message: string, details?: Record<string, unknown>): StoreError {
  return new StoreError('not-found', message, details);
}

export function conflict(message: string, details?: Record<string, unknown>): StoreError {
  return new StoreError('conflict', message, details);
}

export function invalidInput(message: string, details?: Record<string, unknown>): StoreError {
  return new StoreError('invalid-input', message, details);
}

/** The attempt ended (state and reason in the details): stop working on it. */
export function leaseLost(attempt: { id: number; state: string; reason: string | null }): StoreError {
  return new StoreError(
    'lease-lost',
    `attempt ${attempt.id} has ended (${attempt.state}${attempt.reason ? `: ${attempt.reason}` : ''}); stop working on it`,
    { state: attempt.state, reason: attempt.reason },
  );
}
