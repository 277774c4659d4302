import type { Assignment, SwitchyardClient, WarmCacheReport } from '@switchyard/protocol';
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import { classifyFailure, describeFailure } from './failure-kind.ts';
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
  /** Runs one attempt to its end. `receivedAt` is `performance.now()` when it was assigned. */
  runAssignment: (assignment: Assignment, receivedAt: number) => Promise<void>;
}

/** A claim the coordinator holds for `waitSeconds` is given up this much later. */
const CLAIM_SLACK_MS = 15_000;
/** Refusals (bad token, unknown pool) need an operator; retrying faster would only flood the log. */
const REFUSED_RETRY_MS = 10_000;

/**
 * Long-polls the coordinator for work, one job at a time, for as long as the worker runs.
 * Through an outage it reconnects with jittered backoff, logging once when the outage starts
 * and once when it ends, rather than on every try.
 */
export async function runClaimLoop(options: ClaimLoopOptions): Promise<void> {
  const { client, workerName, pool, tags, version, instance, waitSeconds, logger, signal } = options;
  const backoff = new Backoff();
  const outage = new OutageLog(logger, 'connected again');

  while (!signal.aborted) {
    let assignment: Assignment | null;
    try {
      const claimSignal = AbortSignal.any([signal, AbortSignal.timeout(waitSeconds * 1000 + CLAIM_SLACK_MS)]);
      assignment = await client.claim(
        workerName,
        { pool, tags, version, instance, waitSeconds, warm: options.warm() },
        claimSignal,
      );
    } catch (error) {
      if (signal.aborted) return;
      const kind = classifyFailure(error);
      outage.failed(kind, () => {
        if (kind === 'transient') {
          logger.warn({ error: describeFailure(error) }, 'cannot reach the coordinator; retrying with backoff');
        } else {
          logger.error(
            { error: describeFailure(error) },
            `the coordinator refused to give this worker work; retrying every ${REFUSED_RETRY_MS / 1000} s`,
          );
        }
      });
      await sleep(kind === 'transient' ? backoff.next() : REFUSED_RETRY_MS, signal);
      continue;
    }
    outage.succeeded();
    backoff.reset();
    if (assignment) await options.runAssignment(assignment, performance.now());
  }
}
