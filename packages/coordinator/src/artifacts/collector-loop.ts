import type { Logger } from 'pino';
import type { ArtifactService } from './artifact-service.ts';

const SWEEP_MS = 60 * 60 * 1000;

/**
 * Deletes expired artifacts and the blobs nothing references, once at start and then hourly.
 * Expiry is counted in days, so an hour late costs little; `POST /api/v1/artifacts/collect`
 * runs it at once.
 */
export function startArtifactCollector(artifacts: ArtifactService, logger: Logger) {
  let sweeping: Promise<void> | null = null;
  const sweep = () => {
    sweeping ??= artifacts
      .collect()
      .then(
        () => undefined,
        (error: unknown) => logger.error({ err: error }, 'artifact collection failed; will retry'),
      )
      .finally(() => {
        sweeping = null;
      });
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
}
