import { setMaxListeners } from 'node:events';
import { join, resolve } from 'node:path';
import { SWITCHYARD_VERSION } from '@switchyard/protocol';
import { type Logger, pino } from 'pino';
import { buildApp } from './api/app.ts';
import { ArtifactMetrics } from './artifacts/artifact-metrics.ts';
import { ArtifactService } from './artifacts/artifact-service.ts';
import { BlobStore } from './artifacts/blob-store.ts';
import { startArtifactCollector } from './artifacts/collector-loop.ts';
import { DigestLocks } from './artifacts/digest-locks.ts';
import { ClaimBroker } from './claims/claim-broker.ts';
import { ConfigError } from './config/config-error.ts';
import type { Farm } from './config/farm-config.ts';
import { loadConfigFile } from './config/load-config.ts';
import { Activity } from './events/activity.ts';
import { AmqpPublisher } from './events/amqp-publisher.ts';
import { ChangeFeed } from './events/change-feed.ts';
import { EventLog } from './events/event-log.ts';
import { registerEventMetrics } from './events/event-metrics.ts';
import { feedEffects } from './events/feed-effects.ts';
import { WebhookDispatcher } from './events/webhook-dispatcher.ts';
import { LogFiles } from './logs/log-files.ts';
import { LogService } from './logs/log-service.ts';
import { startLeaseReaper } from './loops/lease-reaper.ts';
import { Metrics } from './metrics.ts';
import { schedulingPolicy } from './scheduler/live-policy.ts';
import { priorityLevelMs } from './scheduler/queue-order.ts';
import { registerStatsMetrics } from './stats/stats-metrics.ts';
import { openFarmStore } from './store/open-store.ts';
import type { FarmStore } from './store/port.ts';
import { ToolMetrics } from './tools/tool-metrics.ts';
import { ToolService } from './tools/tool-service.ts';

export interface CoordinatorOptions {
  configPath: string;
  dataDir: string;
  /** A `postgres://` URL or an SQLite file; default: the config's `database:`, else switchyard.db in dataDir. */
  database?: string;
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

/** The change feed reads the events table at least this often, for commits whose wake-up was lost. */
const FEED_POLL_MS = 1000;

/** The composition root: config, store, change feed, logs, claims, API and background loops. */
export async function startCoordinator(options: CoordinatorOptions): Promise<RunningCoordinator> {
  const logger = options.logger ?? pino({ name: 'switchyard-coordinator' });
  let farm = await loadConfigFile(options.configPath);
  const store = await openFarmStore(options.database ?? farm.database ?? join(options.dataDir, 'switchyard.db'), {
    agingMs: () => farm.scheduling.agingMs,
    logger,
  });
  const metrics = new Metrics();
  const shutdown = new AbortController();
  // Every open stream (events, followed logs) listens for the shutdown: as many as there are clients.
  setMaxListeners(0, shutdown.signal);

  const feed = new ChangeFeed(store.events, store.commits, await store.events.lastId(), FEED_POLL_MS, logger);
  const events = new EventLog(store.events, feed.position);
  feed.subscribe((batch) => events.publish(batch));
  const activity = new Activity();
  const logFiles = new LogFiles(join(options.dataDir, 'logs'));
  const logs = new LogService(store.logs, store.jobs, logFiles, activity, () => farm.settings.maxLogBytes, logger);
  const claimBroker = new ClaimBroker(
    (name, request) => store.workers.checkIn(name, request),
    (pool, waiting) =>
      store.jobs.assignWork(pool, waiting, schedulingPolicy(farm), {
        leaseMs: farm.settings.leaseSeconds * 1000,
        heartbeatSeconds: Math.min(60, Math.max(1, Math.floor(farm.settings.leaseSeconds / 3))),
      }),
    (assignment) => store.jobs.releaseUndelivered(assignment.attemptId),
    logger,
  );

  await store.jobs.renewLeasesAfterRestart(farm.settings.leaseSeconds * 1000);
  await store.jobs.rerankPending(priorityLevelMs(farm.scheduling.agingMs));
  for (const attemptId of await store.logs.attemptsWithRawLogs()) logs.attemptComplete(attemptId);

  // The blob directory is fixed at start, like the listening address: a reload can't move the bytes.
  const blobs = new BlobStore(resolve(options.dataDir, farm.raw.server?.blob_dir ?? 'blobs'));
  await blobs.init();
  const artifactMetrics = new ArtifactMetrics(metrics.registry, () => store.artifacts.stats());
  // One lock per digest for artifacts, tools and the collector: they share the blobs.
  const blobLocks = new DigestLocks();
  const artifacts = new ArtifactService(store.artifacts, blobs, blobLocks, () => farm, artifactMetrics, logger);
  const toolMetrics = new ToolMetrics(metrics.registry);
  const tools = new ToolService(store.tools, blobs, blobLocks, () => farm, toolMetrics);

  const eventMetrics = registerEventMetrics(metrics.registry);
  const webhooks = new WebhookDispatcher(
    store.subscriptions,
    events,
    () => farm.events,
    eventMetrics.webhookDeliveries,
    `switchyard/${SWITCHYARD_VERSION}`,
    logger,
  );
  feed.subscribe(
    feedEffects({
      broker: claimBroker,
      activity,
      logs,
      webhooks,
      metrics,
      leaseMs: () => farm.settings.leaseSeconds * 1000,
      onError: (error, what) => logger.error({ err: error }, `${what} failed`),
    }),
  );
  feed.start();
  await webhooks.start();
  // The broker target is fixed at start, like the listening address.
  const amqpTarget = farm.events.amqp;
  const amqp = amqpTarget ? new AmqpPublisher(store.events, events, amqpTarget, eventMetrics.amqp, logger) : null;
  amqp?.start();
  registerStatsMetrics(metrics.registry, store.stats);

  const app = await buildApp({
    farm: () => farm,
    store,
    events,
    activity,
    logs,
    broker: claimBroker,
    metrics,
    artifacts,
    artifactMetrics,
    tools,
    toolMetrics,
    logger,
    version: SWITCHYARD_VERSION,
    shutdown: shutdown.signal,
  });

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
    await feed.stop();
    await webhooks.close();
    await amqp?.close();
    await app.close();
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

  const reaper = startLeaseReaper(store, claimBroker, () => farm, logger);
  const collector = startArtifactCollector(artifacts, logger);

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
    await webhooks.start();
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
      shutdown.abort();
      claimBroker.releaseAll();
      await reaper.stop();
      await collector.stop();
      await feed.stop();
      await webhooks.close();
      await amqp?.close();
      await app.close();
      await logs.drain();
      await logFiles.closeAll();
      await store.close();
    })();
    return closing;
  };
  return { url, port, reload, farm: () => farm, store, close };
}
