/**
 * The closed vocabulary of API errors. Every non-2xx answer has the body
 * `{ "error": { "code", "message", "details" } }`; only `internal` is a 500. A 503 or 507 says
 * the coordinator cannot take the request now, whoever sends it: retry later.
 */
export const ERROR_STATUS = {
  'invalid-request': 400,
  'invalid-log-frames': 400,
  'digest-mismatch': 400,
  /** A worker of a protocol this coordinator no longer takes (version.ts): upgrade the worker. */
  'worker-too-old': 400,
  /** A worker of a protocol newer than this coordinator's: upgrade the coordinators first. */
  'worker-too-new': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'lease-lost': 409,
  'name-in-use': 409,
  'log-sequence-gap': 409,
  'length-required': 411,
  'payload-too-large': 413,
  'range-not-satisfiable': 416,
  'unsupported-media-type': 415,
  internal: 500,
  /** Too many connections from one client address (`server.max_connections_per_client`). */
  'too-many-connections': 503,
  /** The coordinator's database is out of reach (restarting, failing over, cut off): nothing was stored. */
  'database-unavailable': 503,
  /** The coordinator's data directory (or its database's disk) is full: nothing was stored. */
  'disk-full': 507,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; details?: unknown };
}

/** An error an API handler throws on purpose; the server turns it into its status and body. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details ?? {} } };
  }
}

/** An error answer received by a client, with the server's code and message. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}
