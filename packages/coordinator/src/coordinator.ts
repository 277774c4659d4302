import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { startArtifactCollector } from './artifacts/collector-loop.ts';
import { ConfigError } from './config/config-error.ts';
import type { Farm } from './config/farm-config.ts';
import { loadConfigFile } from './config/load-config.ts';
import { createCoordinatorContext } from './coordinator-context.ts';
import { startLeaseReaper } from './loops/lease-reaper.ts';
import { priorityLevelMs } from './scheduler/queue-order.ts';
import { openFarmStore } from './store/open-store.ts';
import type { FarmStore } from './store/port.ts';

export interface CoordinatorOptions {
  configPath: string;
  dataDir: string;
  /** A `postgres://` URL or an SQLite file; default: the config's `database:`, else switchyard.db in dataDir. */
  database?: string;
  /** `s3://bucket/prefix`: blobs in S3 rather than the config's `server.blobs` URL or its blob directory. */
  blobs?: string;
  port?: number;
  host?: string;
  logger?: Logger;
  /** Re-read the config on SIGHUP (default true). */
  handleSignals?: boolean;
}

export interface RunningCoordinator {
  url: string;
  port: number;
  /** Re-reads the config; an invalid one is refused (and thrown) and the old one kept. */
  reload(): Promise<Farm>;
  /** The config in force and the state machine, for drivers in the same process (benchmarks). */
  farm(): Farm;
  store: FarmStore;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The composition root: config, store, the coordinator's context (coordinator-context.ts), its socket and background loops. */
export async function startCoordinator(options: CoordinatorOptions): Promise<RunningCoordinator> {
  const logger = options.logger ?? pino({ name: 'switchyard-coordinator' });
  let farm = await loadConfigFile(options.configPath);
  let lastDiskFullAt: number | null = null;
  const store = await openFarmStore(options.database ?? farm.database ?? join(options.dataDir, 'switchyard.db'), {
    agingMs: () => farm.scheduling.agingMs,
    logger,
    onDiskFull: () => {
      lastDiskFullAt = Date.now();
    },
  });
  const context = await createCoordinatorContext({
    farm: () => farm,
    store,
    dataDir: options.dataDir,
    blobs: options.blobs,
    logger,
  });
  const { app } = context;

  let host = options.host ?? '127.0.0.1';
  if (farm.tokens === null && !LOOPBACK.has(host)) {
    logger.warn(
      { requestedHost: host },
      `no auth: section in ${farm.file}, so the API is open to anyone who can reach it: binding to 127.0.0.1 only, not ${host}. Add auth: tokens to serve other machines.`,
    );
    host = '127.0.0.1';
  } else if (farm.tokens === null) {
    logger.info('no auth: section in the config: the API is unauthenticated and served on loopback only');
  }
  try {
    await app.listen({ port: options.port ?? 7420, host });
  } catch (error) {
    await context.close();
    await store.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${options.port ?? 7420} on ${host} is already in use; choose another with --port`, {
        cause: error,
      });
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 7420);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, config: farm.file, data: options.dataDir }, `switchyard coordinator listening on ${url}`);
  context.replica.setUrl(url);

  const reaper = startLeaseReaper(
    store,
    context.api.broker,
    () => farm,
    logger,
    () => lastDiskFullAt,
  );
  const collector = startArtifactCollector(context.api.artifacts, logger);

  const reload = async (): Promise<Farm> => {
    const next = await loadConfigFile(options.configPath);
    if (next.tokens === null && !LOOPBACK.has(host)) {
      // The socket stays bound where it is: dropping auth would open the API to the network.
      throw new Error(`${next.file} has no auth: section, but the server listens on ${host}; restart it to drop auth`);
    }
    const previousAging = farm.scheduling.agingMs;
    farm = next;
    if (next.scheduling.agingMs !== previousAging)
      await store.jobs.rerankPending(priorityLevelMs(next.scheduling.agingMs));
    await context.webhooks.start();
    await store.events.recordConfigReload(next.builders.length, next.repos.size);
    logger.info({ builders: next.builders.length, repos: next.repos.size }, 'configuration reloaded');
    return next;
  };
  const onHangup = () => {
    reload().catch((error: unknown) => {
      const message = error instanceof ConfigError ? error.message : String(error);
      logger.error(
        { config: options.configPath },
        `configuration reload refused; keeping the previous one\n${message}`,
      );
    });
  };
  if (options.handleSignals !== false) process.on('SIGHUP', onHangup);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      process.off('SIGHUP', onHangup);
      await reaper.stop();
      await collector.stop();
      await context.close();
      await store.close();
    })();
    return closing;
  };
  return { url, port, reload, farm: () => farm, store, close };
}
