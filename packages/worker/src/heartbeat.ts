import type { SwitchyardClient } from '@switchyard/protocol';
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import { classifyFailure, describeFailure } from './failure-kind.ts';
import { OutageLog } from './outage-log.ts';
import { sleep } from './sleep.ts';
import { classifyTransferFailure } from './transfer-retry.ts';

export interface HeartbeatOptions {
  client: SwitchyardClient;
  attemptId: number;
  /** How long the coordinator may hold each heartbeat before answering. */
  waitSeconds: number;
  /** With no heartbeat acknowledged for this long, the lease must be assumed gone. */
  fenceAfterMs: number;
  /** `performance.now()` when the lease was granted: the claim's answer. */
  leaseGrantedAt: number;
  /**
   * The first heartbeat goes this long after the lease was granted (default 0). The claim's
   * answer has just granted a full lease, so nothing needs renewing yet, and a short job ends
   * before it: one request and one transaction fewer per job. Meanwhile a cancel still reaches
   * the worker in the answers to its reports.
   */
  firstAfterMs?: number;
  logger: Logger;
  onCancel: () => void;
  onLeaseLost: () => void;
  /**
   * No heartbeat acknowledged for `fenceAfterMs`. `coordinatorAway`: the last tries found its
   * port closed, their connections cut, or a 5xx — the coordinator's absence, not this machine's
   * network (see transfer-retry.ts).
   */
  onLostContact: (silentMs: number, coordinatorAway: boolean) => void;
}

export interface SelfFencing {
  /** Give up the attempt when no heartbeat was acknowledged for this long. */
  afterMs: number;
  /** The SIGTERM-to-SIGKILL grace to use then, so the step is dead before the lease ends. */
  killGraceMs: number;
}

/** The margin for the acknowledgement's trip back and for the kill itself. */
const FENCE_MARGIN_MS = 1000;
/** The coordinator holds a heartbeat up to `waitSeconds`; past this much more, it is lost. */
const HEARTBEAT_SLACK_MS = 15_000;
/** A coordinator that answers at once instead of holding the request must not be flooded. */
const MIN_HEARTBEAT_INTERVAL_MS = 1000;

/**
 * When the worker must consider its lease lost. The lease runs `leaseSeconds` from when the
 * coordinator acknowledged a heartbeat, which is after we sent it; counting from the sending
 * and finishing the kill (grace included) a second before the end means the step is dead before
 * the coordinator can give the job to another worker: a job never runs twice at once.
 * A lease too short for the configured grace gets half of it for silence, half for the kill.
 */
export function selfFencing(leaseSeconds: number, killGraceMs: number): SelfFencing {
  const leaseMs = leaseSeconds * 1000;
  const afterMs = leaseMs - killGraceMs - FENCE_MARGIN_MS;
  if (afterMs >= leaseMs / 2) return { afterMs, killGraceMs };
  return { afterMs: leaseMs / 2, killGraceMs: Math.max(0, leaseMs / 2 - FENCE_MARGIN_MS) };
}

/**
 * Renews the attempt's lease for as long as it runs: each heartbeat is held by the coordinator
 * up to `waitSeconds` and sent again as soon as it is answered, so a cancel reaches the worker
 * within a round trip. Ends by itself on cancel or lease-lost; `stop` ends it otherwise.
 */
export function startHeartbeat(options: HeartbeatOptions): { stop(): void } {
  const { client, attemptId, waitSeconds, fenceAfterMs, logger } = options;
  const stopping = new AbortController();
  const backoff = new Backoff();
  let lastAcknowledgedSentAt = options.leaseGrantedAt;
  const outage = new OutageLog(logger, 'heartbeats acknowledged again');
  let fenceTimer: NodeJS.Timeout | undefined;
  let coordinatorAway = false;

  const armFence = () => {
    clearTimeout(fenceTimer);
    const remainingMs = lastAcknowledgedSentAt + fenceAfterMs - performance.now();
    fenceTimer = setTimeout(
      () => {
        options.onLostContact(performance.now() - lastAcknowledgedSentAt, coordinatorAway);
      },
      Math.max(0, remainingMs),
    );
  };

  const stop = () => {
    clearTimeout(fenceTimer);
    stopping.abort();
  };

  const loop = async () => {
    await sleep(options.leaseGrantedAt + (options.firstAfterMs ?? 0) - performance.now(), stopping.signal);
    while (!stopping.signal.aborted) {
      const sentAt = performance.now();
      try {
        const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(waitSeconds * 1000 + HEARTBEAT_SLACK_MS)]);
        const response = await client.heartbeat(attemptId, waitSeconds, signal);
        if (stopping.signal.aborted) return;
        // The coordinator renewed the lease when it answered, `heldMs` after our request arrived.
        lastAcknowledgedSentAt = sentAt + Math.min(response.heldMs, performance.now() - sentAt);
        armFence();
        coordinatorAway = false;
        backoff.reset();
        outage.succeeded();
        if (response.cancel) {
          stop();
          options.onCancel();
          return;
        }
        await sleep(sentAt + MIN_HEARTBEAT_INTERVAL_MS - performance.now(), stopping.signal);
      } catch (error) {
        if (stopping.signal.aborted) return;
        const kind = classifyFailure(error);
        coordinatorAway = classifyTransferFailure(error) === 'coordinator';
        if (kind === 'lease-lost') {
          stop();
          options.onLeaseLost();
          return;
        }
        outage.failed(kind, () => logger.warn({ error: describeFailure(error) }, 'heartbeat failed; retrying'));
        await sleep(backoff.next(), stopping.signal);
      }
    }
  };

  armFence();
  void loop();
  return { stop };
}
