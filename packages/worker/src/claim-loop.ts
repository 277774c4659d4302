import {
  ApiRequestError,
  type Assignment,
  type ClaimAfterReportRequest,
  type SwitchyardClient,
  type WarmCacheReport,
  WORKER_PROTOCOL_VERSION,
} from '@switchyard/protocol';
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import { classifyFailure, describeFailure } from './failure-kind.ts';
import type { HeldReport } from './job-runner.ts';
import { OutageLog } from './outage-log.ts';
import { sleep } from './sleep.ts';

export interface ClaimLoopOptions {
  client: SwitchyardClient;
  workerName: string;
  pool: string;
  tags: Record<string, string>;
  version: string;
  /** This process's random id: the coordinator tells a restarted worker from a second one of the same name by it. */
  instance: string;
  /** How long the coordinator may hold a claim before answering "nothing". */
  waitSeconds: number;
  logger: Logger;
  /** What its caches hold, reported with each claim. */
  warm: () => WarmCacheReport[];
  /** Aborted to stop claiming; the loop returns once the current attempt is over. */
  signal: AbortSignal;
  /**
   * Runs one attempt to its end. `receivedAt` is `performance.now()` when it was assigned. May
   * return the attempt's last reports, which the next claim then delivers before asking for work.
   */
  runAssignment: (assignment: Assignment, receivedAt: number) => Promise<HeldReport | undefined>;
  /** Once stopping, how long reports still held may take to reach the coordinator. */
  stopReportTimeoutMs: number;
}

/** A claim the coordinator holds for `waitSeconds` is given up this much later. */
const CLAIM_SLACK_MS = 15_000;
/** Refusals (bad token, unknown pool) need an operator; retrying faster would only flood the log. */
const REFUSED_RETRY_MS = 10_000;
/** A claim refused for this worker's version, or as invalid, waits for an upgrade of one side or the other. */
const VERSION_REFUSED_RETRY_MS = 30_000;

/** The claim refusals that may mean the worker and the coordinator are of versions that don't go together. */
const VERSION_REFUSALS = new Set(['worker-too-old', 'worker-too-new', 'invalid-request']);

/**
 * Long-polls the coordinator for work, one job at a time, for as long as the worker runs.
 * Through an outage it reconnects with jittered backoff, logging once when the outage starts
 * and once when it ends, rather than on every try.
 */
export async function runClaimLoop(options: ClaimLoopOptions): Promise<void> {
  const { client, workerName, pool, tags, version, instance, waitSeconds, logger, signal } = options;
  const backoff = new Backoff();
  const outage = new OutageLog(logger, 'connected again');

  // Reports of the last attempt, sent with the next claim until one is answered: the coordinator
  // applies them (each may be repeated) before it looks for work.
  let held: HeldReport | undefined;

  while (!signal.aborted) {
    let assignment: Assignment | null;
    try {
      const claimSignal = AbortSignal.any([signal, AbortSignal.timeout(waitSeconds * 1000 + CLAIM_SLACK_MS)]);
      const request: ClaimAfterReportRequest = { pool, tags, version, instance, waitSeconds, warm: options.warm() };
      if (held) request.report = { attemptId: held.attemptId, attemptToken: held.attemptToken, entries: held.entries };
      const response = await client.claimAfterReport(workerName, request, claimSignal);
      if (held && response.reportRefused) {
        logger.error(
          { attemptId: held.attemptId, refusal: response.reportRefused },
          'the coordinator refused the last reports of an attempt; dropping them',
        );
      }
      held = undefined;
      assignment = response.assignment;
    } catch (error) {
      if (signal.aborted) break;
      const kind = classifyFailure(error);
      const versionRefusal = error instanceof ApiRequestError && VERSION_REFUSALS.has(error.code) ? error : undefined;
      outage.failed(versionRefusal?.code ?? kind, () => {
        if (versionRefusal) {
          void logVersionRefusal(options, versionRefusal);
        } else if (kind === 'transient') {
          logger.warn({ error: describeFailure(error) }, 'cannot reach the coordinator; retrying with backoff');
        } else {
          logger.error(
            { error: describeFailure(error) },
            `the coordinator refused to give this worker work; retrying every ${REFUSED_RETRY_MS / 1000} s`,
          );
        }
      });
      await sleep(
        versionRefusal ? VERSION_REFUSED_RETRY_MS : kind === 'transient' ? backoff.next() : REFUSED_RETRY_MS,
        signal,
      );
      continue;
    }
    outage.succeeded();
    backoff.reset();
    if (assignment) held = await options.runAssignment(assignment, performance.now());
  }
  if (held) await deliverOnStop(options, held);
}

/**
 * Says why the coordinator won't take this worker's claims and what to upgrade. A coordinator
 * that knows the worker protocol says so itself (worker-too-old, worker-too-new); one older than
 * that refuses what it doesn't know as invalid, so the worker asks for its version to tell.
 */
async function logVersionRefusal(options: ClaimLoopOptions, refusal: ApiRequestError): Promise<void> {
  const { logger, version } = options;
  const again = `asking again every ${VERSION_REFUSED_RETRY_MS / 1000} s`;
  const fields = { error: describeFailure(refusal), workerProtocol: WORKER_PROTOCOL_VERSION };
  if (refusal.code !== 'invalid-request') return logger.error(fields, `${refusal.message}; ${again}`);
  const coordinatorVersion = await options.client.info().then(
    (info) => info.version,
    () => undefined,
  );
  if (coordinatorVersion !== undefined && coordinatorVersion !== version) {
    logger.error(
      { ...fields, coordinatorVersion },
      `the coordinator (Switchyard ${coordinatorVersion}) refused this worker's claim as invalid; this worker is Switchyard ${version}: if the coordinator is the older, it does not know what newer workers send: upgrade the coordinators before the workers (docs/guide/upgrades.md); ${again}`,
    );
  } else {
    logger.error(fields, `the coordinator refused this worker's claim as invalid: ${refusal.message}; ${again}`);
  }
}

/** A stopping worker sends the reports it still holds on their own, for as long as it may wait. */
async function deliverOnStop(options: ClaimLoopOptions, held: HeldReport): Promise<void> {
  try {
    await options.client
      .withToken(held.attemptToken)
      .report(held.attemptId, { entries: held.entries }, AbortSignal.timeout(options.stopReportTimeoutMs));
  } catch (error) {
    options.logger.warn(
      { attemptId: held.attemptId, error: describeFailure(error) },
      'stopping; the last reports of an attempt were not delivered',
    );
  }
}
