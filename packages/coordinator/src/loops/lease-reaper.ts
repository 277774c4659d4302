import type { Logger } from 'pino';
import type { ClaimBroker } from '../claims/claim-broker.ts';
import type { Farm } from '../config/farm-config.ts';
import { StoreError } from '../store/errors.ts';
import type { FarmStore } from '../store/port.ts';
import { ThrottledLog } from '../throttled-log.ts';

const SWEEP_MS = 1000;

/**
 * Whether running attempts get a full lease before expired ones are ended: when the database
 * refused a write for lack of space within the last lease. Their heartbeats were refused then,
 * not missing, and the coordinator being unable must not count against a worker or its job.
 */
export function renewBeforeExpiring(lastDiskFullAt: number | null, now: number, leaseMs: number): boolean {
  return lastDiskFullAt !== null && now - lastDiskFullAt < leaseMs;
}

/**
 * Ends attempts whose worker stopped heartbeating (their job goes back to pending or, out of
 * attempts, to exception) and marks silent idle workers offline. A lost worker is noticed
 * within lease + one sweep; after the database refused writes for a full disk, within a lease of
 * the last refusal.
 */
export function startLeaseReaper(
  store: Pick<FarmStore, 'jobs' | 'workers'>,
  broker: ClaimBroker,
  farm: () => Farm,
  logger: Logger,
  /** When the database last refused a write for lack of space (epoch ms), or null. */
  lastDiskFullAt: () => number | null,
) {
  const diskFullLog = new ThrottledLog(logger);
  let sweeping: Promise<void> | null = null;
  const sweep = async () => {
    try {
      const settings = farm().settings;
      const leaseMs = settings.leaseSeconds * 1000;
      if (renewBeforeExpiring(lastDiskFullAt(), Date.now(), leaseMs)) await store.jobs.renewLeasesAfterRestart(leaseMs);
      await store.jobs.expireLeases();
      const silenceMs = (settings.claimWaitSeconds * 2 + 10) * 1000;
      await store.workers.expireIdle(silenceMs, broker.waitingWorkers());
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'disk-full') {
        diskFullLog.warn('lease sweep refused: the disk is full; will retry', { err: error.cause });
      } else {
        logger.error({ err: error }, 'lease sweep failed; will retry');
      }
    } finally {
      sweeping = null;
    }
  };
  const timer = setInterval(() => {
    sweeping ??= sweep();
  }, SWEEP_MS);
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
      diskFullLog.close();
    },
  };
}
