import { setMaxListeners } from 'node:events';
import { join, resolve } from 'node:path';
import { SWITCHYARD_VERSION } from '@switchyard/protocol';
import { type Logger, pino } from 'pino';
import { buildApp } from './api/app.ts';
import { ArtifactMetrics } from './artifacts/artifact-metrics.ts';
import { ArtifactRecords } from './artifacts/artifact-records.ts';
import { ArtifactService } from './artifacts/artifact-service.ts';
import { BlobStore } from './artifacts/blob-store.ts';
import { startArtifactCollector } from './artifacts/collector-loop.ts';
import { DigestLocks } from './artifacts/digest-locks.ts';
import { ClaimBroker } from './claims/claim-broker.ts';
import { ConfigError } from './config/config-error.ts';
import type { Farm } from './config/farm-config.ts';
import { loadConfigFile } from './config/load-config.ts';
import { AmqpPublisher } from './events/amqp-publisher.ts';
import { EventLog } from './events/event-log.ts';
import { registerEventMetrics } from './events/event-metrics.ts';
import { SubscriptionStore } from './events/subscription-store.ts';
import { WebhookDispatcher } from './events/webhook-dispatcher.ts';
import { LogFiles } from './logs/log-files.ts';
import { LogService } from './logs/log-service.ts';
import { startLeaseReaper } from './loops/lease-reaper.ts';
import { Metrics } from './metrics.ts';
import { schedulingPolicy } from './scheduler/live-policy.ts';
import { priorityLevelMs } from './scheduler/queue-order.ts';
import { registerStatsMetrics } from './stats/stats-metrics.ts';
import { StatsQueries } from './stats/stats-queries.ts';
import { openSqlite } from './store/open-database.ts';
import { Queries } from './store/queries.ts';
import { Store } from './store/store.ts';
import { ToolMetrics } from './tools/tool-metrics.ts';
import { ToolRecords } from './tools/tool-records.ts';
import { ToolService } from './tools/tool-service.ts';

export interface CoordinatorOptions {
  configPath: string;
  dataDir: string;
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
  store: Store;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The composition root: config, store, events, logs, claims, API and background loops. */
export async function startCoordinator(options: CoordinatorOptions): Promise<RunningCoordinator> {
  const logger = options.logger ?? pino({ name: 'switchyard-coordinator' });
  let farm = await loadConfigFile(options.configPath);
  const db = await openSqlite(join(options.dataDir, 'switchyard.db'));
  const queries = new Queries(db);
  const events = new EventLog(db);
  await events.init();
  const metrics = new Metrics();
  const shutdown = new AbortController();
  // Every open stream (events, followed logs) listens for the shutdown: as many as there are clients.
  setMaxListeners(0, shutdown.signal);

  // The store calls back after each commit; these are wired below, once everything exists.
  let broker: ClaimBroker | undefined;
  let logs: LogService | undefined;
  const store = new Store(
    db,
    {
      onEvents(committed) {
        events.publish(committed);
        for (const { event, dims } of committed) {
          metrics.events.inc({ type: event.type });
          if (dims.jobId != null) logs?.changes.emit(`job:${dims.jobId}`);
          if (event.type === 'attempt.finished') {
            const attempt = (event.data as { attempt: { id: number; state: string } }).attempt;
            logs?.notify(attempt.id);
            // Ended by the coordinator (lease lost): nothing more will be written to its logs.
            if (attempt.state === 'exception') logs?.attemptComplete(attempt.id);
            if (attempt.state === 'cancelled')
              logs?.attemptCompleteLater(attempt.id, farm.settings.leaseSeconds * 1000);
          }
        }
      },
      onNewWork(pools) {
        broker?.offer(pools);
      },
      onCancelled(attemptIds) {
        for (const id of attemptIds) logs?.changes.emit(`cancel:${id}`);
      },
    },
    () => farm.scheduling.agingMs,
  );
  const logFiles = new LogFiles(join(options.dataDir, 'logs'));
  logs = new LogService(store, queries, logFiles, () => farm.settings.maxLogBytes, logger);
  const claimBroker = new ClaimBroker(
    (name, request) => store.checkIn(name, request),
    (pool, waiting) =>
      store.assignWork(pool, waiting, schedulingPolicy(farm), {
        leaseMs: farm.settings.leaseSeconds * 1000,
        heartbeatSeconds: Math.min(60, Math.max(1, Math.floor(farm.settings.leaseSeconds / 3))),
      }),
    (assignment) => store.releaseUndelivered(assignment.attemptId),
    logger,
  );
  broker = claimBroker;

  await store.renewLeasesAfterRestart(farm.settings.leaseSeconds * 1000);
  await store.rerankPending(priorityLevelMs(farm.scheduling.agingMs));
  for (const attemptId of await queries.attemptsWithRawLogs()) logs.attemptComplete(attemptId);

  // The blob directory is fixed at start, like the listening address: a reload can't move the bytes.
  const blobs = new BlobStore(resolve(options.dataDir, farm.raw.server?.blob_dir ?? 'blobs'));
  await blobs.init();
  const artifactRecords = new ArtifactRecords(db, store);
  const artifactMetrics = new ArtifactMetrics(metrics.registry, () => artifactRecords.stats());
  // One lock per digest for artifacts, tools and the collector: they share the blobs.
  const blobLocks = new DigestLocks();
  const artifacts = new ArtifactService(artifactRecords, blobs, blobLocks, () => farm, artifactMetrics, logger);
  const toolMetrics = new ToolMetrics(metrics.registry);
  const tools = new ToolService(new ToolRecords(db, store), blobs, blobLocks, () => farm, toolMetrics);

  const eventMetrics = registerEventMetrics(metrics.registry);
  const subscriptions = new SubscriptionStore(db);
  const webhooks = new WebhookDispatcher(
    subscriptions,
    events,
    () => farm.events,
    eventMetrics.webhookDeliveries,
    `switchyard/${SWITCHYARD_VERSION}`,
    logger,
  );
  await webhooks.start();
  // The broker target is fixed at start, like the listening address.
  const amqpTarget = farm.events.amqp;
  const amqp = amqpTarget ? new AmqpPublisher(db, events, amqpTarget, eventMetrics.amqp, logger) : null;
  amqp?.start();
  const stats = new StatsQueries(db);
  registerStatsMetrics(metrics.registry, stats);

  const app = await buildApp({
    farm: () => farm,
    store,
    queries,
    events,
    subscriptions,
    webhooks,
    stats,
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
    await webhooks.close();
    await amqp?.close();
    await app.close();
    await db.destroy();
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
    if (next.scheduling.agingMs !== previousAging) await store.rerankPending(priorityLevelMs(next.scheduling.agingMs));
    await webhooks.start();
    await store.recordConfigReload(next.builders.length, next.repos.size);
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
      await webhooks.close();
      await amqp?.close();
      await app.close();
      await logs.drain();
      await logFiles.closeAll();
      await db.destroy();
    })();
    return closing;
  };
  return { url, port, reload, farm: () => farm, store, close };
}
