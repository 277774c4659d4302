import { ApiRequestError } from '@switchyard/protocol';
import { BlobUnavailable, HttpStatusError } from './artifact-download.ts';
import { Backoff } from './backoff.ts';
import { describeFailure } from './failure-kind.ts';
import { sleep } from './sleep.ts';

/**
 * Whose a failed transfer is, and so whether trying again can help:
 * - `coordinator`: it is away or failing — a connection refused or cut, 5xx, 408, 429. A
 *   restart does exactly this, and ends by itself.
 * - `network`: the way there failed (no answer in time, an unreachable host, DNS): may pass.
 * - `final`: anything else, such as a 4xx, content with the wrong digest or a full disk here:
 *   another try would only repeat it.
 */
export type TransferFailureKind = 'coordinator' | 'network' | 'final';

/**
 * Codes that mean a host answered, but the coordinator's process was not there to: nothing
 * listened on its port, or the connection it had was cut as it went away.
 */
const ABSENCE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const LATER_STATUSES: ReadonlySet<number> = new Set([408, 429]);

export function classifyTransferFailure(error: unknown): TransferFailureKind {
  // A download tried each source: the coordinator, the origin, was the last and has the say.
  if (error instanceof BlobUnavailable) return classifyTransferFailure(error.cause);
  const status =
    error instanceof ApiRequestError ? error.status : error instanceof HttpStatusError ? error.status : null;
  if (status !== null) return status >= 500 || LATER_STATUSES.has(status) ? 'coordinator' : 'final';
  if (hasErrorCode(error, ABSENCE_CODES)) return 'coordinator';
  if (hasErrorCode(error, NETWORK_CODES)) return 'network';
  return 'final';
}

/**
 * A transfer gave up with the coordinator away or failing throughout its last tries: the
 * attempt ends `coordinator-unavailable`, which is retried and never held against the worker.
 */
export class CoordinatorUnavailable extends Error {
  override readonly name = 'CoordinatorUnavailable';
}

export interface TransferRetryOptions {
  /** Names the transfer in log lines: `uploading app.tar.gz`. */
  what: string;
  /**
   * How long a run of failures may last: the lease's length. A coordinator away that long has
   * let the lease go (and the heartbeat's fence aborts `signal` before); one that answers
   * heartbeats but fails transfers for that long is not going to take this one.
   */
  patienceMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** The first retry's delay; it doubles, with jitter, up to 5 s. @default 250 */
  initialDelayMs?: number;
}

const MAX_DELAY_MS = 5000;

/**
 * Runs one transfer until it goes through, trying again after every failure that is not
 * final, as the outbox does with reports: a coordinator restart costs a few seconds, not the
 * attempt. Each try must be safe to repeat (an upload is asked for by its digest first, so
 * content the coordinator took before it went away is not sent again). Gives up after
 * `patienceMs` of failures, with CoordinatorUnavailable when they were the coordinator's, else
 * with the last error; an abort (cancel, stop, the fence) ends it at once.
 */
export async function withTransferRetries<T>(options: TransferRetryOptions, attempt: () => Promise<T>): Promise<T> {
  const { signal, log, what } = options;
  const backoff = new Backoff({ initialMs: options.initialDelayMs ?? 250, maxMs: MAX_DELAY_MS });
  let failingSince: number | null = null;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) throw error;
      const kind = classifyTransferFailure(error);
      if (kind === 'final') throw error;
      failingSince ??= performance.now();
      const delay = backoff.next();
      if (performance.now() + delay - failingSince > options.patienceMs) {
        const seconds = Math.round((performance.now() - failingSince) / 1000);
        const message = `${what} failed for ${seconds} s: ${describeFailure(error)}`;
        throw kind === 'coordinator'
          ? new CoordinatorUnavailable(message, { cause: error })
          : new Error(message, { cause: error });
      }
      log(`${what} failed (${describeFailure(error)}); trying again in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, signal);
      signal.throwIfAborted();
    }
  }
}

/** Whether a Node system error code is on the error, its causes, or the errors it aggregates. */
function hasErrorCode(error: unknown, codes: ReadonlySet<string>): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && codes.has(code)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => hasErrorCode(inner, codes))) return true;
  return hasErrorCode(error.cause, codes);
}
