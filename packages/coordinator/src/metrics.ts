import { statfs } from 'node:fs/promises';
import { RouteLatency } from '@switchyard/proxy/diagnostics';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** The coordinator's Prometheus metrics, in a registry of its own. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'switchyard_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  /** Per-route latencies; long polls and streams apart (their routes say `longLived`). */
  readonly routeLatency = new RouteLatency(this.registry, 'switchyard_');
  readonly jobs = new Gauge({
    name: 'switchyard_jobs',
    help: 'Jobs by state and pool',
    labelNames: ['state', 'pool'] as const,
    registers: [this.registry],
  });
  readonly workers = new Gauge({
    name: 'switchyard_workers',
    help: 'Workers by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly claimsWaiting = new Gauge({
    name: 'switchyard_claims_waiting',
    help: 'Worker claims held in a long poll',
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'switchyard_events_total',
    help: 'Events committed, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly logBytes = new Counter({
    name: 'switchyard_log_bytes_total',
    help: 'Log bytes ingested from workers',
    registers: [this.registry],
  });
  readonly logRequests = new Counter({
    name: 'switchyard_log_requests_total',
    help: 'Log batches ingested from workers',
    registers: [this.registry],
  });
  readonly sseClients = new Gauge({
    name: 'switchyard_event_stream_clients',
    help: 'Open event-stream connections',
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'switchyard_http_connections',
    help: 'Open HTTP connections',
    registers: [this.registry],
  });
  readonly connectionsClosed = new Counter({
    name: 'switchyard_http_connections_closed_total',
    help:
      'Connections the coordinator closed to protect itself, by reason: slow-body (a request body below the minimum rate), ' +
      'refused-before-body (an error answered before the body was read), client-limit (over server.max_connections_per_client)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly diskFullRefusals = new Counter({
    name: 'switchyard_disk_full_refusals_total',
    help: 'Requests answered 507 disk-full, by what was full: sqlite, postgresql (the database) or file (blobs, logs)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly streamPagesUnsent = new Gauge({
    name: 'switchyard_event_stream_pages_unsent',
    help: 'Pages of events sent to event streams that their consumers have not taken yet (at most one per stream)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
  }
}

/**
 * Free bytes on the disks under the data directory and the blob directory, read when scraped:
 * a full one refuses writes with 507 disk-full, so it is worth an alert before it happens.
 */
/** `blobs`: the blob directory, when blobs are on local disk (not in S3). */
export function registerDiskSpaceMetrics(registry: Registry, dirs: { data: string; blobs?: string }): void {
  new Gauge({
    name: 'switchyard_disk_free_bytes',
    help: 'Bytes available to the coordinator on the disk under its data directory (dir="data") and blob directory (dir="blobs", when blobs are on disk)',
    labelNames: ['dir'] as const,
    registers: [registry],
    async collect() {
      for (const [dir, path] of Object.entries(dirs)) {
        if (path === undefined) continue;
        const stats = await statfs(path).catch(() => null);
        if (stats) this.set({ dir }, stats.bavail * stats.bsize);
      }
    },
  });
}
