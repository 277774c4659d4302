import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyStats } from '@switchyard/proxy';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type Origin, startOrigin, writeSlowly } from '../../packages/proxy/src/testing/origin.ts';
import { killAll, switchyardCommand } from '../helpers/processes.ts';
import { startProxyProcess } from '../helpers/proxy.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const cacheDirs: string[] = [];
const origins: Origin[] = [];

function newCacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-proxy-e2e-'));
  cacheDirs.push(dir);
  return dir;
}

afterEach(async () => {
  await killAll();
  for (const origin of origins.splice(0)) await origin.close();
});
afterAll(() => {
  for (const dir of cacheDirs) rmSync(dir, { recursive: true, force: true });
});

interface Download {
  status: number;
  cache: string;
  bytes: number;
  /** Whether every byte equalled the expected body's, when one was given. */
  matches: boolean;
  /** The sha256 of the body, unless it was compared with an expected body instead. */
  digest?: string;
}

/**
 * Streams one GET through node:http; `onFirstBytes` runs when the body starts. With `expected`, each
 * chunk is compared with the expected bytes at its offset (a hundred 64 MiB bodies hash slowly on a
 * shared 2-core machine; equal bytes have the equal digest); without, the body is hashed.
 */
function download(url: string, options: { expected?: Buffer; onFirstBytes?: () => void } = {}): Promise<Download> {
  const { expected, onFirstBytes = () => {} } = options;
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      const hash = expected ? undefined : createHash('sha256');
      let bytes = 0;
      let matches = true;
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) onFirstBytes();
        if (expected) matches &&= chunk.equals(expected.subarray(bytes, bytes + chunk.length));
        hash?.update(chunk);
        bytes += chunk.length;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          cache: String(res.headers['x-switchyard-cache']),
          bytes,
          matches: matches && (!expected || bytes === expected.length),
          digest: hash?.digest('hex'),
        }),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('switchyard proxy', () => {
  test('100 concurrent cold requests for 64 MiB from a slow origin: one upstream fetch, streamed to all as it arrives', async () => {
    const body = randomBytes(64 * 2 ** 20);
    const digest = sha256(body);
    const clients = 100;
    let clientsWithBytes = 0;
    let everyClientHasBytes: () => void = () => {};
    const allStreaming = new Promise<void>((resolve) => {
      everyClientHasBytes = resolve;
    });
    const origin = await startOrigin(async (_req, res) => {
      res.writeHead(200, { 'content-length': body.length, 'cache-control': 'public, max-age=31536000, immutable' });
      const last = body.length - 2 ** 20;
      await writeSlowly(res, body.subarray(0, last), 2 ** 20, 5);
      // The last MiB waits until every client has bytes: the fill cannot have completed before that.
      await allStreaming;
      res.end(body.subarray(last));
    });
    origins.push(origin);
    const proxy = await startProxyProcess({
      cacheDir: newCacheDir(),
      maxSize: '1GiB',
      upstreams: [`artifacts=${origin.url}`],
    });
    const path = `/api/v1/blobs/sha256/${digest}`;
    const downloads = await Promise.all(
      Array.from({ length: clients }, () =>
        download(`${proxy.url}/artifacts${path}`, {
          expected: body,
          onFirstBytes: () => {
            clientsWithBytes += 1;
            if (clientsWithBytes === clients) everyClientHasBytes();
          },
        }),
      ),
    );
    expect(origin.count(path)).toBe(1);
    expect(downloads.filter((d) => d.status === 200 && d.matches)).toHaveLength(clients);
    expect(downloads.filter((d) => d.cache === 'MISS')).toHaveLength(1);
    expect(downloads.filter((d) => d.cache === 'COLLAPSED')).toHaveLength(clients - 1);
    const stats = (await (await fetch(`${proxy.url}/_stats`)).json()) as ProxyStats;
    expect(stats.upstreams.artifacts).toMatchObject({
      misses: 1,
      collapsed: clients - 1,
      bytes_from_upstream: body.length,
      bytes_served: body.length * clients,
      bandwidth_saved: 0.99,
    });
    expect(await download(`${proxy.url}/artifacts${path}`)).toMatchObject({ cache: 'HIT', digest });
  });

  test('entries survive a restart; a corrupted body is detected and fetched again', async () => {
    const body = randomBytes(3 * 2 ** 20);
    const digest = sha256(body);
    const path = `/api/v1/blobs/sha256/${digest}`;
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-length': body.length, etag: `"${digest}"`, 'cache-control': 'public, immutable' });
      res.end(body);
    });
    origins.push(origin);
    const cacheDir = newCacheDir();
    const options = { cacheDir, maxSize: '100MiB', upstreams: [`artifacts=${origin.url}`] };
    const bodyFile = () => {
      const shards = readdirSync(join(cacheDir, 'entries'), { recursive: true, encoding: 'utf8' });
      return join(cacheDir, 'entries', shards.find((name) => name.endsWith('.body')) as string);
    };
    const corrupt = () => writeFileSync(bodyFile(), Buffer.alloc(body.length, 0x42));

    let proxy = await startProxyProcess(options);
    const url = `${proxy.url}/artifacts${path}`;
    expect(await download(url)).toMatchObject({ cache: 'MISS', digest });

    await proxy.kill('SIGTERM');
    proxy = await startProxyProcess({ ...options, port: Number(new URL(url).port) });
    expect(await download(url)).toMatchObject({ cache: 'HIT', digest });
    expect(origin.count(path)).toBe(1);

    // Damaged while the proxy runs: the changed file is checked again before it is served.
    await new Promise((resolve) => setTimeout(resolve, 50));
    corrupt();
    expect(await download(url)).toMatchObject({ cache: 'MISS', digest });
    expect(origin.count(path)).toBe(2);

    // Damaged while it was stopped: the first use after the start checks the digest.
    await proxy.kill('SIGTERM');
    corrupt();
    proxy = await startProxyProcess({ ...options, port: Number(new URL(url).port) });
    expect(await download(url)).toMatchObject({ cache: 'MISS', digest });
    expect(await download(url)).toMatchObject({ cache: 'HIT', digest });
    expect(origin.count(path)).toBe(3);
  });

  test('bad sizes and upstreams are refused with what is expected', async () => {
    const size = await switchyardCommand([
      'proxy',
      '--cache-dir',
      newCacheDir(),
      '--max-size',
      '50XB',
      '--upstream',
      'a=http://x',
    ]);
    expect(size.code).toBe(1);
    expect(size.output).toContain('"50XB" is not a size');
    const upstream = await switchyardCommand([
      'proxy',
      '--cache-dir',
      newCacheDir(),
      '--max-size',
      '1GiB',
      '--upstream',
      'artifacts',
    ]);
    expect(upstream.code).toBe(1);
    expect(upstream.output).toContain('expected name=url, e.g. artifacts=http://coordinator:7420');
  });
});
