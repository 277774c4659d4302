import { REPLICA_STATES } from '@switchyard/protocol';
import { Gauge, type Registry } from 'prom-client';
import type { ReplicaStore } from '../store/port.ts';
import { replicaState } from './replica-status.ts';
import type { SingletonLease } from './singleton-lease.ts';

/** The farm's replicas by state, and the singletons this replica holds, read when scraped. */
export function registerReplicaMetrics(
  registry: Registry,
  store: Pick<ReplicaStore, 'list'>,
  aliveWindowMs: number,
  leases: () => readonly SingletonLease[],
): void {
  new Gauge({
    name: 'switchyard_replicas',
    help: 'Coordinator replicas sharing the database, by state (alive: seen within the alive window; dead: not seen, not stopped)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const { now, replicas } = await store.list();
      for (const state of REPLICA_STATES) this.set({ state }, 0);
      for (const replica of replicas) this.inc({ state: replicaState(replica, now, aliveWindowMs) });
    },
  });
  new Gauge({
    name: 'switchyard_singleton_held',
    help: 'Whether this replica runs the singleton loop (1) or another does (0), by loop',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      for (const lease of leases()) this.set({ name: lease.name }, lease.heldTerm === null ? 0 : 1);
    },
  });
  new Gauge({
    name: 'switchyard_singleton_term',
    help: 'The term under which this replica holds the singleton lease, by loop (absent when it holds none)',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const lease of leases()) if (lease.heldTerm !== null) this.set({ name: lease.name }, lease.heldTerm);
    },
  });
}
