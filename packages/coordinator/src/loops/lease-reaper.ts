import type { Logger } from 'pino';
import type { ClaimBroker } from '../claims/claim-broker.ts';
import type { Farm } from '../config/farm-config.ts';
import type { Store } from '../store/store.ts';

const SWEEP_MS = 1000;

/**
 * Ends attempts whose worker stopped heartbeating (their job goes back to pending or, out of
 * attempts, to exception) and marks silent idle workers offline. A lost worker is noticed
 * within lease + one sweep.
 */
export function startLeaseReaper(store: Store, broker: ClaimBroker, farm: () => Farm, logger: Logger) {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      await store.expireLeases();
      const settings = farm().settings;
      const silenceMs = (settings.claimWaitSeconds * 2 + 10) * 1000;
      await store.expireIdleWorkers(silenceMs, broker.waitingWorkers());
    } catch (error) {
      logger.error({ err: error }, 'lease sweep failed; will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_MS);
  return {
    async stop() {
      clearInterval(timer);
      while (running) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}
