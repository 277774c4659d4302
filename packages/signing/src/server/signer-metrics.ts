import { RouteLatency } from '@switchyard/proxy/diagnostics';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The signer's Prometheus metrics, in a registry of its own. Labels carry formats, key ids and
 * outcomes, never tokens or secrets. The cache hit ratio is
 * `hits / (hits + misses + joined)` over `switchyard_signer_cache_lookups_total`.
 */
export class SignerMetrics {
  readonly registry = new Registry();
  /** Per-route latencies; the profile routes, held for as long as they sample, apart. */
  readonly routes = new RouteLatency(this.registry, 'switchyard_signer_');
  readonly signatures = new Counter({
    name: 'switchyard_signer_signatures_total',
    help: 'Signatures made, by format and key: a MAR signature, a detached signature, an Authenticode signature (installers and MAR entries alike), a digest signed',
    labelNames: ['format', 'key'] as const,
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: 'switchyard_signer_cache_lookups_total',
    help: 'Whole-file signing requests by cache outcome: hit, miss, or joined (the same input already being signed)',
    labelNames: ['format', 'result'] as const,
    registers: [this.registry],
  });
  readonly entryLookups = new Counter({
    name: 'switchyard_signer_mar_entries_total',
    help: 'mar-contents entries: signed, compressed-hit, decompressed-hit, or copied (needs no signing, never decompressed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly decompressions = new Counter({
    name: 'switchyard_signer_entry_decompressions_total',
    help: 'MAR entries decompressed (only signable entries missing from the cache are)',
    registers: [this.registry],
  });
  readonly durations = new Histogram({
    name: 'switchyard_signer_sign_duration_seconds',
    help: 'Time to answer a signing request, cache hits included, by format',
    labelNames: ['format'] as const,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  readonly queued = new Gauge({
    name: 'switchyard_signer_queued_tasks',
    help: 'Tasks waiting for a signing thread',
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'switchyard_signer_jobs_in_flight',
    help: 'Signing requests being worked on',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'switchyard_signer_refusals_total',
    help: 'Requests refused, by error code (before or after the body)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly uploadBytes = new Counter({
    name: 'switchyard_signer_upload_bytes_total',
    help: 'Body bytes received for signing',
    registers: [this.registry],
  });
  readonly cacheBytes = new Gauge({
    name: 'switchyard_signer_cache_bytes',
    help: 'Bytes held by the signed-file cache',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_signer_' });
  }
}
