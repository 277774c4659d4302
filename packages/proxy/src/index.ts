import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import { CacheHandler } from './cache-handler.ts';
import { EntryStore } from './entry-store.ts';
import { createProxyServer } from './server.ts';
import { ProxyMetrics, type ProxyStats } from './stats.ts';
import { UpstreamClient } from './upstream-client.ts';
import { type Upstream, upstreamsByName } from './upstreams.ts';

export { formatSize, InvalidSizeError, parseSize } from './size.ts';
export type { CacheStatus, ProxyStats, UpstreamStats } from './stats.ts';
export { InvalidUpstreamError, parseUpstream, type Upstream } from './upstreams.ts';

export const DEFAULT_PROXY_PORT = 7430;
/** Memory for copies of small hot bodies, by default: a few hundred artifacts and tools. */
export const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;

export interface ProxyOptions {
  upstreams: Upstream[];
  /** Where entries are kept; they survive a restart. */
  cacheDir: string;
  /** The bound on the bytes kept in `cacheDir`. */
  maxBytes: number;
  /** @default 7430; 0 takes any free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * The bound on the bytes of small bodies (up to 4 MiB each) also kept in memory, most recently
   * served first, so that a hit on one is one socket write; 0 keeps none. @default DEFAULT_MEMORY_BYTES
   */
  memoryBytes?: number;
  /** The share of `maxBytes` an eviction frees beyond what it needs. @default 0.1 */
  headroom?: number;
  /** How long an origin may take to answer, or stay silent mid-body. @default 30000 */
  upstreamTimeoutMs?: number;
  /** @default pino({ name: 'switchyard-proxy' }) */
  logger?: Logger;
  /** The bearer token that may take CPU profiles and heap snapshots (`switchyard profile`); without one, nobody may. */
  adminToken?: string;
}

export interface RunningProxy {
  url: string;
  port: number;
  /** Stops listening, cuts the open connections and lets the fills in progress go. */
  close(): Promise<void>;
  stats(): ProxyStats;
}

/** How long `close()` waits for fills in progress to notice their upstream connections are gone. */
const CLOSE_GRACE_MS = 2000;

/** Starts the regional pull-through cache: `http://host:port/<upstream>/<path>` → `<upstream url>/<path>`. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const logger = options.logger ?? pino({ name: 'switchyard-proxy' });
  const upstreams = upstreamsByName(options.upstreams);
  const store = new EntryStore({
    dir: options.cacheDir,
    maxBytes: options.maxBytes,
    headroom: options.headroom ?? 0.1,
    memoryBytes: options.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    logger,
  });
  await store.open();
  const metrics = new ProxyMetrics([...upstreams.keys()], {
    entries: () => store.entryCount,
    bytes: () => store.usedBytes,
    maxBytes: () => store.maxBytes,
    memoryBytes: () => store.memoryBytes,
    evictions: () => store.evictions,
  });
  const client = new UpstreamClient(options.upstreamTimeoutMs ?? 30_000);
  const handler = new CacheHandler({ store, client, metrics, logger });
  const server = createProxyServer({
    upstreams,
    handler,
    metrics,
    logger,
    adminTokenSha256: options.adminToken ? createHash('sha256').update(options.adminToken).digest() : null,
    scratchDir: store.tmpDir,
  });
  server.listen(options.port ?? DEFAULT_PROXY_PORT, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  logger.info(
    { url, upstreams: options.upstreams, cacheDir: options.cacheDir, maxBytes: options.maxBytes },
    'proxy listening',
  );

  return {
    url,
    port,
    stats: () => metrics.snapshot(),
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      client.close();
      await Promise.race([
        Promise.allSettled(handler.inFlight()),
        new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
      ]);
      await closed;
    },
  };
}
