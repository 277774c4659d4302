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
  /** The credential may not act for this worker: the worker is bound to another one. */
  | 'forbidden'
  /** The request names something the farm does not have (an unknown repo). */
  | 'invalid-input'
  /** A log batch arrived out of order: the one expected is in the details. */
  | 'log-sequence-gap'
  /** Nothing could be written: the disk holding the data (the database's or the data directory's) is full. */
  | 'disk-full'
  /** The singleton lease this write was fenced by is no longer this replica's: another took over. */
  | 'singleton-lost'
  /** The database could not be reached or dropped the session: nothing of this request was committed. */
  | 'unavailable';

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

/**
 * The store error for a failure that says the disk is full — SQLite's SQLITE_FULL, PostgreSQL's
 * 53100 disk_full, ENOSPC or EDQUOT from the blob and log files — or null for any other. The
 * database's own message names no directory, and a generic failure would be taken for the
 * request's fault, so this one says where space must be freed.
 */
export function diskFullOf(error: unknown): StoreError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL') {
    return diskFull('the data directory is full: the database could not grow', 'sqlite', error);
  }
  if (code === '53100') {
    return diskFull("PostgreSQL's disk is full (disk_full): the database could not grow", 'postgresql', error);
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const path = (error as { path?: unknown }).path;
    const where = typeof path === 'string' ? ` (writing ${path})` : '';
    return diskFull(`the data directory is full${where}`, 'file', error);
  }
  return null;
}

function diskFull(what: string, source: 'sqlite' | 'postgresql' | 'file', cause: unknown): StoreError {
  const error = new StoreError(
    'disk-full',
    `${what}; nothing was stored. Free space there; the request may be repeated once there is room`,
    { source },
  );
  error.cause = cause;
  return error;
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

/**
 * The attempt still runs, but its lease ran out before this renewal or report: the reaper ends
 * it and its job runs again, so its worker must stop.
 */
export function leaseExpired(attempt: { id: number; lease_expires_at: number }, now: number): StoreError {
  const ago = Math.round((now - attempt.lease_expires_at) / 1000);
  return new StoreError(
    'lease-lost',
    `the lease of attempt ${attempt.id} expired ${ago} s ago (at ${new Date(attempt.lease_expires_at).toISOString()}); stop working on it`,
    { state: 'running', reason: 'lease-expired', leaseExpiresAt: new Date(attempt.lease_expires_at).toISOString() },
  );
}

/** A singleton loop's write refused: the lease (name, holder, term) it was made under is gone. */
export function singletonLost(fence: { name: string; holder: string; term: number }): StoreError {
  return new StoreError(
    'singleton-lost',
    `replica ${fence.holder} no longer holds "${fence.name}" under term ${fence.term}; another replica took it over or its lease ran out`,
    { ...fence },
  );
}

/** The attempt ended (state and reason in the details): stop working on it. */
export function leaseLost(attempt: { id: number; state: string; reason: string | null }): StoreError {
  return new StoreError(
    'lease-lost',
    `attempt ${attempt.id} has ended (${attempt.state}${attempt.reason ? `: ${attempt.reason}` : ''}); stop working on it`,
    { state: attempt.state, reason: attempt.reason },
  );
}

/** PostgreSQL's SQLSTATEs for a session it refused or ended: connection exceptions, shutdown, too many connections. */
const SESSION_LOST_STATES = /^(08...|57P01|57P02|57P03|53300)$/;
/**
 * Node's socket errors for a session that never came or broke: a statement written just as the
 * server ended the session fails with EPIPE or ECONNRESET rather than the server's own error.
 */
const SESSION_LOST_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
/** node-postgres's own words for a session that broke or never came. */
const SESSION_LOST_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/**
 * The store error for a failure that says the database is out of reach — it refused the
 * connection, ended the session (a restart, a failover, `pg_terminate_backend`), or the pool
 * waited too long for one — or null for any other. The transaction did not commit, so the
 * request may be sent again, to this replica or another: a 503, not a 500.
 */
export function unavailableOf(error: unknown): StoreError | null {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const lost =
    (typeof code === 'string' && (SESSION_LOST_STATES.test(code) || SESSION_LOST_SOCKET_CODES.has(code))) ||
    (typeof message === 'string' && SESSION_LOST_MESSAGES.some((words) => message.startsWith(words)));
  if (!lost) return null;
  const unavailable = new StoreError(
    'unavailable',
    'the database could not be reached or ended the session; nothing was stored. Send the request again',
  );
  unavailable.cause = error;
  return unavailable;
}
