import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadBlob } from './artifact-download.ts';

const content = Buffer.from('the build package\n'.repeat(1000));
const digest = createHash('sha256').update(content).digest('hex');

/** A server that answers every GET with `answer`, and remembers the Authorization it got. */
async function serving(answer: (response: ServerResponse) => void) {
  const seen = { authorization: undefined as string | undefined };
  const server = createServer((request, response) => {
    seen.authorization = request.headers.authorization;
    answer(response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, seen, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/blob` };
}

describe('downloadBlob', () => {
  const dir = mkdtempSync(join(tmpdir(), 'download-'));
  let good: Awaited<ReturnType<typeof serving>>;
  let corrupt: Awaited<ReturnType<typeof serving>>;
  let missing: Awaited<ReturnType<typeof serving>>;

  beforeAll(async () => {
    good = await serving((response) => response.end(content));
    corrupt = await serving((response) => response.end(Buffer.concat([content.subarray(1), Buffer.from('x')])));
    missing = await serving((response) => response.writeHead(404).end('{}'));
  });
  afterAll(() => {
    for (const s of [good, corrupt, missing]) s.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const download = (file: string, sources: { url: string; label: string }[], fallbacks: string[]) =>
    downloadBlob({
      sources,
      token: 'secret',
      sha256: digest,
      size: content.length,
      file,
      signal: AbortSignal.timeout(10_000),
      onFallback: (failed, reason) => fallbacks.push(`${failed.label}: ${reason}`),
    });

  it('takes the first source that delivers the right bytes, sending the token', async () => {
    const fallbacks: string[] = [];
    const file = join(dir, 'a');
    const used = await download(file, [{ url: good.url, label: 'the cache' }], fallbacks);
    expect(used.label).toBe('the cache');
    expect(readFileSync(file)).toEqual(content);
    expect(good.seen.authorization).toBe('Bearer secret');
    expect(fallbacks).toEqual([]);
  });

  it('falls back when a source fails or serves bytes that do not match the digest', async () => {
    const fallbacks: string[] = [];
    const file = join(dir, 'b');
    const used = await download(
      file,
      [
        { url: missing.url, label: 'a missing copy' },
        { url: corrupt.url, label: 'the cache' },
        { url: good.url, label: 'the coordinator' },
      ],
      fallbacks,
    );
    expect(used.label).toBe('the coordinator');
    expect(readFileSync(file)).toEqual(content);
    expect(fallbacks).toHaveLength(2);
    expect(fallbacks[0]).toMatch(/^a missing copy: HTTP 404/);
    expect(fallbacks[1]).toMatch(/^the cache: got 18000 bytes with sha256 [0-9a-f]{64}, expected 18000 bytes with/);
  });

  it('gives up on a source as soon as it sends more bytes than the artifact has', async () => {
    const endless = await serving((response) => {
      const more = () => {
        while (!response.destroyed && response.write(content));
        if (!response.destroyed) response.once('drain', more);
      };
      more();
    });
    try {
      const fallbacks: string[] = [];
      const file = join(dir, 'd');
      const used = await download(
        file,
        [
          { url: endless.url, label: 'the cache' },
          { url: good.url, label: 'the coordinator' },
        ],
        fallbacks,
      );
      expect(used.label).toBe('the coordinator');
      expect(readFileSync(file)).toEqual(content);
      expect(fallbacks).toEqual([`the cache: more than the ${content.length} bytes expected`]);
    } finally {
      endless.server.closeAllConnections();
      endless.server.close();
    }
  });

  it('keeps no file when every source fails, and says why for each', async () => {
    const file = join(dir, 'c');
    await expect(download(file, [{ url: corrupt.url, label: 'the cache' }], [])).rejects.toThrow(/^the cache: got/);
    expect(existsSync(file)).toBe(false);
  });
});
