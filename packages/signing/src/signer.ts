/**
 * @module
 * The signer's composition root: config → cache, worker pool, service, HTTP API. One process,
 * usually on a machine of its own; the keys are opened here and in its threads, nowhere else.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import packageJson from '../package.json' with { type: 'json' };
import { SignedCache } from './cache/signed-cache.ts';
import type { SignerConfig } from './config/load-signer-config.ts';
import { engineVersions } from './formats/engines.ts';
import { poolSetup } from './pool/pool-setup.ts';
import { WorkerPool } from './pool/worker-pool.ts';
import { buildSignerApp } from './server/signer-app.ts';
import { SignerMetrics } from './server/signer-metrics.ts';
import { SigningService } from './signing-service.ts';

export interface SignerOptions {
  config: SignerConfig;
  /** Overrides the config's `listen` (tests use port 0). */
  listen?: { host: string; port: number };
  logger?: Logger;
}

export interface RunningSigner {
  url: string;
  metrics: SignerMetrics;
  close(): Promise<void>;
}

export async function startSigner(options: SignerOptions): Promise<RunningSigner> {
  const { config } = options;
  // pino's redaction is a second line of defence: no code path logs headers in the first place.
  const logger =
    options.logger ??
    pino({ name: 'switchyard-signer', redact: ['req.headers.authorization', 'headers.authorization'] });
  const scratchDir = join(config.cacheDir, 'scratch');
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(scratchDir, { recursive: true });
  const metrics = new SignerMetrics();
  const cache = await SignedCache.open(config.cacheDir, config.cacheMaxBytes);
  metrics.cacheBytes.set(cache.stats.bytes);
  const pool = new WorkerPool(config.workers, poolSetup(config.keys, scratchDir), {
    queued: (count) => metrics.queued.set(count),
  });
  try {
    await pool.ready();
    const service = new SigningService({
      keys: config.keys,
      cache,
      pool,
      engines: await engineVersions(),
      metrics,
    });
    const app = await buildSignerApp({ config, service, metrics, logger, version: packageJson.version, scratchDir });
    const listen = options.listen ?? config.listen;
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : listen.port;
    const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    logger.info({ keys: [...config.keys.keys()], workers: pool.size, cache: config.cacheDir }, 'signer listening');
    return {
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      metrics,
      close: async () => {
        await app.close();
        await pool.close();
      },
    };
  } catch (error) {
    await pool.close();
    throw error;
  }
}
