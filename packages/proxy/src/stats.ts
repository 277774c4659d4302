import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { RouteLatency } from './diagnostics/route-latency.ts';

/** How a request was answered, sent back in `X-Switchyard-Cache`. */
export type CacheStatus = 'HIT' | 'MISS' | 'COLLAPSED' | 'REVALIDATED' | 'STALE' | 'BYPASS';

export interface UpstreamStats {
  requests: number;
  hits: number;
  misses: number;
  collapsed: number;
  revalidated: number;
  stale: number;
  bypassed: number;
  bytes_from_upstream: number;
  bytes_served: number;
  /** 1 − bytes_from_upstream / bytes_served: the share of the bytes served that the origin did not send. */
  bandwidth_saved: number;
}

export interface ProxyStats {
  upstreams: Record<string, UpstreamStats>;
  cache: { entries: number; bytes: number; max_bytes: number; evictions: number };
}

const FIELD_OF_STATUS = {
  HIT: 'hits',
  MISS: 'misses',
  COLLAPSED: 'collapsed',
  REVALIDATED: 'revalidated',
  STALE: 'stale',
  BYPASS: 'bypassed',
} as const satisfies Record<CacheStatus, keyof UpstreamStats>;

export interface CacheGauges {
  entries(): number;
  bytes(): number;
  maxBytes(): number;
  memoryBytes(): number;
  evictions(): number;
}

/** The counters behind `GET /_stats` and `/metrics` (prom-client, in a registry of its own). */
export class ProxyMetrics {
  readonly registry = new Registry();
  /** Per-route latencies: a route is an upstream (`/<name>/*`) or one of the proxy's own paths. */
  readonly routes = new RouteLatency(this.registry, 'switchyard_proxy_');
  private readonly perUpstream = new Map<string, UpstreamStats>();
  private readonly requests = new Counter({
    name: 'switchyard_proxy_requests_total',
    help: 'Requests by upstream and cache status (HIT, MISS, COLLAPSED, REVALIDATED, STALE, BYPASS)',
    labelNames: ['upstream', 'cache'] as const,
    registers: [this.registry],
  });
  private readonly upstreamBytes = new Counter({
    name: 'switchyard_proxy_upstream_bytes_total',
    help: 'Body bytes received from the upstream',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  private readonly servedBytes = new Counter({
    name: 'switchyard_proxy_served_bytes_total',
    help: 'Body bytes sent to clients',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });

  constructor(
    upstreamNames: readonly string[],
    private readonly cache: CacheGauges,
  ) {
    for (const name of upstreamNames) {
      this.perUpstream.set(name, {
        requests: 0,
        hits: 0,
        misses: 0,
        collapsed: 0,
        revalidated: 0,
        stale: 0,
        bypassed: 0,
        bytes_from_upstream: 0,
        bytes_served: 0,
        bandwidth_saved: 0,
      });
    }
    const stats = this.perUpstream;
    new Gauge({
      name: 'switchyard_proxy_bandwidth_saved_ratio',
      help: '1 − upstream bytes / served bytes, per upstream',
      labelNames: ['upstream'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, upstream] of stats) this.set({ upstream: name }, savedRatio(upstream));
      },
    });
    new Gauge({
      name: 'switchyard_proxy_cache_bytes',
      help: 'Bytes held by the cache, fills in progress included',
      registers: [this.registry],
      collect() {
        this.set(cache.bytes());
      },
    });
    new Gauge({
      name: 'switchyard_proxy_cache_max_bytes',
      help: 'The bound the cache is kept under (--max-size)',
      registers: [this.registry],
      collect() {
        this.set(cache.maxBytes());
      },
    });
    new Gauge({
      name: 'switchyard_proxy_cache_memory_bytes',
      help: 'Bytes of small bodies also held in memory, under --memory-size',
      registers: [this.registry],
      collect() {
        this.set(cache.memoryBytes());
      },
    });
    new Gauge({
      name: 'switchyard_proxy_cache_entries',
      help: 'Objects held by the cache',
      registers: [this.registry],
      collect() {
        this.set(cache.entries());
      },
    });
    new Gauge({
      name: 'switchyard_proxy_evictions',
      help: 'Entries evicted to stay under the bound since start',
      registers: [this.registry],
      collect() {
        this.set(cache.evictions());
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_proxy_' });
  }

  request(upstream: string, status: CacheStatus): void {
    const stats = this.perUpstream.get(upstream);
    if (!stats) return;
    stats.requests += 1;
    stats[FIELD_OF_STATUS[status]] += 1;
    this.requests.inc({ upstream, cache: status });
  }

  fromUpstream(upstream: string, bytes: number): void {
    const stats = this.perUpstream.get(upstream);
    if (stats) stats.bytes_from_upstream += bytes;
    this.upstreamBytes.inc({ upstream }, bytes);
  }

  served(upstream: string, bytes: number): void {
    const stats = this.perUpstream.get(upstream);
    if (stats) stats.bytes_served += bytes;
    this.servedBytes.inc({ upstream }, bytes);
  }

  snapshot(): ProxyStats {
    const upstreams: Record<string, UpstreamStats> = {};
    for (const [name, stats] of this.perUpstream) upstreams[name] = { ...stats, bandwidth_saved: savedRatio(stats) };
    return {
      upstreams,
      cache: {
        entries: this.cache.entries(),
        bytes: this.cache.bytes(),
        max_bytes: this.cache.maxBytes(),
        evictions: this.cache.evictions(),
      },
    };
  }
}

function savedRatio(stats: UpstreamStats): number {
  return stats.bytes_served === 0 ? 0 : 1 - stats.bytes_from_upstream / stats.bytes_served;
}
