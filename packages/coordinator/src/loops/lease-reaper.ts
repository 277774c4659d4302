import type { Logger } from 'pino';
import type { ClaimBroker } from '../claims/claim-broker.ts';
import type { Farm } from '../config/farm-config.ts';
import type { FarmStore } from '../store/port.ts';

const SWEEP_MS = 1000;

/**
 * Ends attempts whose worker stopped heartbeating (their job goes back to pending or, out of
 * attempts, to exception) and marks silent idle workers offline. A lost worker is noticed
 * within lease + one sweep.
 */
export function startLeaseReaper(
  store: Pick<FarmStore, 'jobs' | 'workers'>,
  broker: ClaimBroker,
  farm: () => Farm,
  logger: Logger,
) {
  let sweeping: Promise<void> | null = null;
  const sweep = async () => {
    try {
      await store.jobs.expireLeases();
      const settings = farm().settings;
      const silenceMs = (settings.claimWaitSeconds * 2 + 10) * 1000;
      await store.workers.expireIdle(silenceMs, broker.waitingWorkers());
    } catch (error) {
      logger.error({ err: error }, 'lease sweep failed; will retry');
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
    },
  };
}
