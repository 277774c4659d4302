import type { Logger } from 'pino';
import type { Farm } from '../config/farm-config.ts';
import { type AmqpMetrics, AmqpPublisher } from '../events/amqp-publisher.ts';
import type { EventLog } from '../events/event-log.ts';
import type { WebhookDispatcher } from '../events/webhook-dispatcher.ts';
import { priorityLevelMs } from '../scheduler/queue-order.ts';
import type { FarmStore } from '../store/port.ts';
import { DEFAULT_REPLICA_TIMING, ReplicaRegistry, type ReplicaTiming } from './replica-registry.ts';
import { renewLeasesAtStart } from './replica-status.ts';
import { SingletonLease, type SingletonTiming } from './singleton-lease.ts';

/** How a coordinator takes part in a farm of replicas; tests shorten the times. */
export interface ReplicaOptions {
  /** This replica's URL, shown by `GET /api/v1/replicas`. */
  url?: string | null;
  timing?: ReplicaTiming;
  singletons?: SingletonTiming;
}

export const DEFAULT_SINGLETON_TIMING: SingletonTiming = { leaseMs: 15_000, renewMs: 5000 };

/**
 * Registers this coordinator process among the farm's replicas, touching only what it owns: the
 * running attempts' leases are renewed only when no other replica is alive (the whole farm was
 * down, so no worker could heartbeat); the queue is re-ranked only when the aging setting the
 * queue was ranked with differs from this config's (Store.rerankPending).
 */
export async function startReplica(
  store: FarmStore,
  farm: Farm,
  options: ReplicaOptions,
  version: string,
  logger: Logger,
): Promise<ReplicaRegistry> {
  const registry = new ReplicaRegistry(
    store.replicas,
    { url: options.url ?? null, version },
    options.timing ?? DEFAULT_REPLICA_TIMING,
    logger,
  );
  const { now, replicas } = await store.replicas.list();
  if (renewLeasesAtStart(replicas, registry.id, now, registry.timing.aliveWindowMs)) {
    await store.jobs.renewLeasesAfterRestart(farm.settings.leaseSeconds * 1000);
  }
  await registry.start();
  if (await store.jobs.rerankPending(priorityLevelMs(farm.scheduling.agingMs))) {
    logger.info({ agingMs: farm.scheduling.agingMs }, 'the aging setting changed: pending jobs re-ranked');
  }
  return registry;
}

/** The loops that run on one replica at a time, each under its singleton lease. */
export interface Singletons {
  readonly leases: readonly SingletonLease[];
  /** Stops them; `release: false` leaves the leases to run out, as a replica that died would. */
  close(options?: { release?: boolean }): Promise<void>;
}

export function startSingletons(parts: {
  store: FarmStore;
  registry: ReplicaRegistry;
  timing: SingletonTiming;
  webhooks: WebhookDispatcher;
  /** The broker, fixed at start like the listening address; null: no publisher. */
  amqp: { target: { url: string; exchange: string }; log: EventLog; metrics: AmqpMetrics } | null;
  logger: Logger;
}): Singletons {
  const { store, registry, timing, webhooks, amqp, logger } = parts;
  const leases = [
    new SingletonLease(
      store.replicas,
      'webhooks',
      registry.id,
      timing,
      async (fence, signal) => {
        await webhooks.lead(fence);
        await aborted(signal);
        await webhooks.standDown();
      },
      logger,
    ),
  ];
  if (amqp) {
    leases.push(
      new SingletonLease(
        store.replicas,
        'amqp-publisher',
        registry.id,
        timing,
        async (fence, signal) => {
          const publisher = new AmqpPublisher(store.events, amqp.log, amqp.target, amqp.metrics, logger, fence);
          publisher.start();
          await Promise.race([aborted(signal), publisher.finished]);
          await publisher.close();
        },
        logger,
      ),
    );
  }
  for (const lease of leases) lease.start();
  return {
    leases,
    async close(options = {}) {
      await Promise.all(leases.map((lease) => lease.close(options)));
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
