import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { SWITCHYARD_VERSION } from '@switchyard/protocol';
import type { Logger } from 'pino';
import { buildApp } from './api/app.ts';
import type { App } from './api/app-types.ts';
import type { ApiContext } from './api/context.ts';
import { dashboardDirectory } from './api/dashboard.ts';
import { Sessions } from './api/sessions.ts';
import { ArtifactMetrics } from './artifacts/artifact-metrics.ts';
import { ArtifactService } from './artifacts/artifact-service.ts';
import { LocalBlobStore } from './blobs/local-blob-store.ts';
import { openBlobStore } from './blobs/open-blob-store.ts';
import { ClaimBroker } from './claims/claim-broker.ts';
import { blobsTarget } from './config/blobs-config.ts';
import type { Farm } from './config/farm-config.ts';
import { AttemptCredentials } from './credentials/attempt-credentials.ts';
import { Activity } from './events/activity.ts';
import { ChangeFeed } from './events/change-feed.ts';
import { EventLog } from './events/event-log.ts';
import { registerEventMetrics } from './events/event-metrics.ts';
import { feedEffects } from './events/feed-effects.ts';
import { WebhookDispatcher } from './events/webhook-dispatcher.ts';
import { logArchiveTarget } from './logs/log-archive.ts';
import { LegacyLogFiles } from './logs/log-files.ts';
import { LogReader } from './logs/log-reader.ts';
import { LogService } from './logs/log-service.ts';
import { LogTexts } from './logs/log-texts.ts';
import { Metrics, registerDiskSpaceMetrics } from './metrics.ts';
import {
  DEFAULT_SINGLETON_TIMING,
  type ReplicaOptions,
  startReplica,
  startSingletons,
} from './replicas/replica-loops.ts';
import { registerReplicaMetrics } from './replicas/replica-metrics.ts';
import type { ReplicaRegistry } from './replicas/replica-registry.ts';
import { schedulingPolicy } from './scheduler/live-policy.ts';
import { registerStatsMetrics } from './stats/stats-metrics.ts';
import type { FarmStore } from './store/port.ts';
import { ToolMetrics } from './tools/tool-metrics.ts';
import { ToolService } from './tools/tool-service.ts';

/** The change feed reads the events table at least this often, for commits whose wake-up was lost. */
const FEED_POLL_MS = 1000;

export interface CoordinatorContextOptions {
  /** The config in force (a reload replaces it). */
  farm(): Farm;
  store: FarmStore;
  dataDir: string;
  /** `--blobs s3://bucket/prefix`: replaces the config's `server.blobs` URL. */
  blobs?: string;
  logger: Logger;
  /** Its place among the farm's replicas (replicas/replica-loops.ts); tests shorten the leases. */
  replica?: ReplicaOptions;
}

/** A coordinator with everything running but its socket and its background sweeps. */
export interface CoordinatorContext {
  /** The HTTP API, not listening: `listen` it, or `inject` requests into it. */
  app: App;
  /** What the routes work with. */
  api: ApiContext;
  /** Delivers to the webhooks of the config in force; a reload starts it again. */
  webhooks: WebhookDispatcher;
  /** This process's row among the farm's replicas. */
  replica: ReplicaRegistry;
  /**
   * Ends streams and held claims, stops the feed and what it drives, and closes the app; not the
   * store. `graceful: false` leaves its singleton leases to run out and its replica row to go
   * dead, as a killed process would.
   */
  close(options?: { graceful?: boolean }): Promise<void>;
}

/**
 * Wires the coordinator around an open store: the change feed and what it drives (streams,
 * claim offers, logs, webhooks, the broker), artifacts, tools, metrics and the API. The server
 * listens on it; tests inject requests into it in the same process.
 */
export async function createCoordinatorContext(options: CoordinatorContextOptions): Promise<CoordinatorContext> {
  const { farm, store, dataDir, logger } = options;
  const metrics = new Metrics();
  const shutdown = new AbortController();
  // Every open stream (events, followed logs) listens for the shutdown: as many as there are clients.
  setMaxListeners(0, shutdown.signal);

  const feed = new ChangeFeed(store.events, store.commits, await store.events.lastId(), FEED_POLL_MS, logger);
  const eventMetrics = registerEventMetrics(metrics.registry);
  const events = new EventLog(store.events, feed.position, { metrics: eventMetrics.history });
  feed.subscribe((batch) => events.publish(batch));
  const activity = new Activity();
  // Followers of a log wake when any coordinator stores its next batch (no event says so).
  const stopLogWakeUps = store.logAppends.onLogAppended((attemptId) => activity.attemptChanged(attemptId));
  // Logs of a farm from before the log chunks: read where they are (see LegacyLogFiles).
  const legacyLogs = new LegacyLogFiles(join(dataDir, 'logs'));
  // Compacted logs: a blob store of their own beside the artifacts' (see LogArchive), fixed at start like it.
  const logArchive = await openBlobStore(
    logArchiveTarget(blobsTarget(farm().raw.server, options.blobs, process.env)),
    dataDir,
  );
  const logReader = new LogReader(store.logs, store.jobs, logArchive, legacyLogs);
  const logs = new LogService({
    logs: store.logs,
    jobs: store.jobs,
    reader: logReader,
    archive: logArchive,
    legacy: legacyLogs,
    activity,
    maxBytesPerStep: () => farm().settings.maxLogBytes,
    graceMs: () => farm().settings.leaseSeconds * 1000,
    errorPattern: () => farm().logErrors,
    logger,
  });
  const logTexts = new LogTexts(join(dataDir, 'log-text'), store.jobs, logReader, logArchive, () => farm().logErrors);
  await logTexts.start();
  const claimBroker = new ClaimBroker(
    (name, request, credential) => store.workers.checkIn(name, request, credential),
    (pool, waiting) => {
      const { leaseSeconds } = farm().settings;
      return store.jobs.assignWork(pool, waiting, schedulingPolicy(farm()), {
        leaseMs: leaseSeconds * 1000,
        heartbeatSeconds: Math.min(60, Math.max(1, Math.floor(leaseSeconds / 3))),
      });
    },
    (assignment) => store.jobs.releaseUndelivered(assignment.attemptId),
    logger,
  );

  const replica = await startReplica(store, farm(), options.replica ?? {}, SWITCHYARD_VERSION, logger);
  await logs.start();

  // The blob store is fixed at start, like the listening address: a reload can't move the bytes.
  const blobs = await openBlobStore(blobsTarget(farm().raw.server, options.blobs, process.env), dataDir);
  registerDiskSpaceMetrics(metrics.registry, {
    data: dataDir,
    blobs: blobs instanceof LocalBlobStore ? blobs.dir : undefined,
  });
  const artifactMetrics = new ArtifactMetrics(metrics.registry, () => store.artifacts.stats());
  // One lock per digest for artifacts, tools and the collector (they share the blobs), held
  // across the replicas of a PostgreSQL farm.
  const artifacts = new ArtifactService(store.artifacts, blobs, store.digestLocks, farm, artifactMetrics, logger);
  const toolMetrics = new ToolMetrics(metrics.registry);
  const tools = new ToolService(store.tools, blobs, store.digestLocks, farm, toolMetrics);

  const webhooks = new WebhookDispatcher(
    store.subscriptions,
    events,
    () => farm().events,
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
      committedHere: (eventId) => store.commits.committedHere(eventId),
      leaseMs: () => farm().settings.leaseSeconds * 1000,
      onError: (error, what) => logger.error({ err: error }, `${what} failed`),
    }),
  );
  feed.start();
  await webhooks.start();
  // The broker target is fixed at start, like the listening address.
  const amqpTarget = farm().events.amqp;
  const singletons = startSingletons({
    store,
    registry: replica,
    timing: options.replica?.singletons ?? DEFAULT_SINGLETON_TIMING,
    webhooks,
    amqp: amqpTarget ? { target: amqpTarget, log: events, metrics: eventMetrics.amqp } : null,
    logger,
  });
  registerReplicaMetrics(metrics.registry, store.replicas, replica.timing.aliveWindowMs, () => singletons.leases);
  registerStatsMetrics(metrics.registry, store.stats);

  const api: ApiContext = {
    farm,
    store,
    events,
    activity,
    logs,
    logTexts,
    sessions: new Sessions(store.sessions),
    dashboardDir: dashboardDirectory(),
    broker: claimBroker,
    credentials: await AttemptCredentials.open(store.keys, farm),
    metrics,
    dataDir,
    artifacts,
    artifactMetrics,
    tools,
    toolMetrics,
    logger,
    version: SWITCHYARD_VERSION,
    shutdown: shutdown.signal,
    replica: {
      id: replica.id,
      aliveWindowMs: replica.timing.aliveWindowMs,
      feedHealth: () => feed.health,
      feedPollMs: FEED_POLL_MS,
    },
  };
  const app = await buildApp(api);

  return {
    app,
    api,
    webhooks,
    replica,
    async close({ graceful = true } = {}) {
      shutdown.abort();
      await singletons.close({ release: graceful });
      await replica.close({ stopped: graceful });
      stopLogWakeUps();
      claimBroker.releaseAll();
      await feed.stop();
      await webhooks.close();
      await app.close();
      await logs.drain();
      await logTexts.close();
    },
  };
}
