import { ApiRequestError } from '@switchyard/protocol';

/** A failure the user can fix (a bad flag, a missing checkout, a busy port); printed as one line, no stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The one line printed for a command that failed, naming what to do where possible. */
export function describeFailure(error: unknown, server: string): string {
  if (error instanceof ApiRequestError) return `error: ${error.message} (HTTP ${error.status} ${error.code})`;
  if (hasErrorCode(error, UNREACHABLE_CODES)) {
    return `error: cannot reach the coordinator at ${server} (is \`switchyard server\` running?)`;
  }
  // fetch reports every network failure as this TypeError, with the reason as its cause.
  if (error instanceof TypeError && error.message === 'fetch failed' && error.cause instanceof Error) {
    return `error: request to the coordinator at ${server} failed: ${error.cause.message}`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

export function isAddressInUse(error: unknown): boolean {
  return hasErrorCode(error, new Set(['EADDRINUSE']));
}

/** Whether a Node system error code is found on the error, its causes, or the errors it aggregates. */
function hasErrorCode(error: unknown, codes: ReadonlySet<string>): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && codes.has(code)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => hasErrorCode(inner, codes))) return true;
  return hasErrorCode(error.cause, codes);
}
