import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { get as httpGet, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { type ProxyStats, type RunningProxy, startProxy } from './index.ts';
import { type Origin, startOrigin } from './testing/origin.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function originWith(handle: Parameters<typeof startOrigin>[0]): Promise<Origin> {
  const origin = await startOrigin(handle);
  cleanups.push(() => origin.close());
  return origin;
}

async function proxyFor(
  origin: Origin,
  options: { maxBytes?: number; cacheDir?: string; memoryBytes?: number } = {},
): Promise<RunningProxy> {
  const cacheDir = options.cacheDir ?? mkdtempSync(join(tmpdir(), 'switchyard-proxy-'));
  const proxy = await startProxy({
    upstreams: [{ name: 'origin', base: origin.url }],
    cacheDir,
    maxBytes: options.maxBytes ?? 2 ** 30,
    memoryBytes: options.memoryBytes,
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(async () => {
    await proxy.close();
    if (!options.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });
  return proxy;
}

/**
 * A GET through node:http, for conditional requests: fetch adds `Cache-Control: no-cache` to any
 * request with If-None-Match or If-Modified-Since (the Fetch standard's "no-store" cache mode).
 */
function conditionalGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; cache: string | undefined; body: string }>((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cache: res.headers['x-switchyard-cache'] as string, body }),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    cache: response.headers.get('x-switchyard-cache'),
    body,
  };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function bytesOnDisk(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** A GET written by hand, for what fetch cannot send: several lines of one header field. */
function rawGet(proxyUrl: string, path: string, fieldLines: string[]): Promise<string> {
  const { hostname, port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    // Written, not ended: the server closes the connection once it has answered (Connection: close).
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${fieldLines.join('\r\n')}\r\nConnection: close\r\n\r\n`,
      );
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('routing and pass-through', () => {
  test('an unknown upstream is a 404 naming the known ones; other methods go through untouched', async () => {
    const origin = await originWith((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
    });
    const proxy = await proxyFor(origin);
    const unknown = await get(`${proxy.url}/nope/x`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString())).toEqual({
      error: { code: 'not-found', message: expect.stringContaining('/origin/'), details: { upstreams: ['origin'] } },
    });
    const posted = await fetch(`${proxy.url}/origin/submit?x=1`, { method: 'POST', body: 'payload' });
    expect(posted.headers.get('x-switchyard-cache')).toBe('BYPASS');
    expect(await posted.text()).toBe('POST /submit?x=1 payload');
  });
});

describe('Range', () => {
  test('on a hit: the bytes asked for, 416 past the end', async () => {
    const body = randomBytes(100_000);
    const origin = await originWith((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      res.end(body);
    });
    const proxy = await proxyFor(origin);
    expect((await get(`${proxy.url}/origin/file`)).cache).toBe('MISS');
    const part = await get(`${proxy.url}/origin/file`, { range: 'bytes=1000-1999' });
    expect(part).toMatchObject({ status: 206, cache: 'HIT' });
    expect(part.headers.get('content-range')).toBe('bytes 1000-1999/100000');
    expect(part.body.equals(body.subarray(1000, 2000))).toBe(true);
    const past = await get(`${proxy.url}/origin/file`, { range: 'bytes=100000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */100000');
    expect(origin.count('/file')).toBe(1);
  });

  test('on a fill in progress: served as soon as those bytes have arrived', async () => {
    const body = randomBytes(4 * 2 ** 20);
    const rest = gate();
    const origin = await originWith(async (_req, res) => {
      res.writeHead(200, { 'content-length': body.length, 'cache-control': 'max-age=600' });
      res.write(body.subarray(0, 2 ** 20));
      await rest.opened;
      res.end(body.subarray(2 ** 20));
    });
    const proxy = await proxyFor(origin);
    const whole = get(`${proxy.url}/origin/big`);
    // The origin holds back all but the first MiB until the range request has its answer.
    const part = await get(`${proxy.url}/origin/big`, { range: 'bytes=1000-99999' });
    expect(part).toMatchObject({ status: 206, cache: 'COLLAPSED' });
    expect(part.body.equals(body.subarray(1000, 100_000))).toBe(true);
    rest.open();
    expect(sha256((await whole).body)).toBe(sha256(body));
    expect(origin.count('/big')).toBe(1);
  });
});

describe('RFC 9111 rules', () => {
  test('no-store is never kept', async () => {
    const origin = await originWith((_req, res) => {
      res.writeHead(200, { 'cache-control': 'no-store' });
      res.end('secret');
    });
    const proxy = await proxyFor(origin);
    for (let i = 0; i < 2; i++) expect(await get(`${proxy.url}/origin/a`)).toMatchObject({ cache: 'MISS' });
    expect(origin.count('/a')).toBe(2);
    expect(proxy.stats().cache.entries).toBe(0);
  });

  test('an answer to a request with Authorization is not shared unless it is public', async () => {
    const origin = await originWith((req, res) => {
      const cacheControl = req.url === '/public' ? 'public, max-age=600' : 'max-age=600';
      res.writeHead(200, { 'cache-control': cacheControl });
      res.end(`for ${req.headers.authorization ?? 'anyone'}`);
    });
    const proxy = await proxyFor(origin);
    const mine = await get(`${proxy.url}/origin/private`, { authorization: 'Bearer alice' });
    expect(mine.body.toString()).toBe('for Bearer alice');
    const theirs = await get(`${proxy.url}/origin/private`);
    expect(theirs).toMatchObject({ cache: 'MISS' });
    expect(theirs.body.toString()).toBe('for anyone');
    expect(origin.count('/private')).toBe(2);

    await get(`${proxy.url}/origin/public`, { authorization: 'Bearer alice' });
    expect(await get(`${proxy.url}/origin/public`)).toMatchObject({ cache: 'HIT' });
    expect(origin.count('/public')).toBe(1);
  });

  test('a stale entry is revalidated: 304 keeps the body, a new version replaces it', async () => {
    let version = 'v1';
    const origin = await originWith((req, res) => {
      const etag = `"${version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': 'max-age=0' });
        res.end();
        return;
      }
      res.writeHead(200, { etag, 'cache-control': 'max-age=0' });
      res.end(`body ${version}`);
    });
    const proxy = await proxyFor(origin);
    expect(await get(`${proxy.url}/origin/doc`)).toMatchObject({ cache: 'MISS' });
    const revalidated = await get(`${proxy.url}/origin/doc`);
    expect(revalidated).toMatchObject({ status: 200, cache: 'REVALIDATED' });
    expect(revalidated.body.toString()).toBe('body v1');
    expect(origin.requests[1]?.headers['if-none-match']).toBe('"v1"');
    version = 'v2';
    const changed = await get(`${proxy.url}/origin/doc`);
    expect(changed).toMatchObject({ cache: 'MISS' });
    expect(changed.body.toString()).toBe('body v2');
    expect(proxy.stats().cache.entries).toBe(1);
  });

  test('Last-Modified is a validator too', async () => {
    const lastModified = new Date(Date.now() - 3_600_000).toUTCString();
    const origin = await originWith((req, res) => {
      const unchanged = req.headers['if-modified-since'] === lastModified;
      res.writeHead(unchanged ? 304 : 200, { 'last-modified': lastModified, 'cache-control': 'no-cache' });
      res.end(unchanged ? undefined : 'dated');
    });
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/dated`);
    const again = await get(`${proxy.url}/origin/dated`);
    expect(again).toMatchObject({ cache: 'REVALIDATED' });
    expect(again.body.toString()).toBe('dated');
  });

  test('Vary keeps variants apart', async () => {
    const origin = await originWith((req, res) => {
      res.writeHead(200, { vary: 'Accept-Language', 'cache-control': 'max-age=600' });
      res.end(req.headers['accept-language'] === 'fr' ? 'bonjour' : 'hello');
    });
    const proxy = await proxyFor(origin);
    const url = `${proxy.url}/origin/greeting`;
    expect((await get(url, { 'accept-language': 'en' })).body.toString()).toBe('hello');
    expect((await get(url, { 'accept-language': 'fr' })).body.toString()).toBe('bonjour');
    const en = await get(url, { 'accept-language': 'en' });
    const fr = await get(url, { 'accept-language': 'fr' });
    expect([en.cache, en.body.toString(), fr.cache, fr.body.toString()]).toEqual(['HIT', 'hello', 'HIT', 'bonjour']);
    expect(origin.count('/greeting')).toBe(2);
  });
});

describe('RFC 9111 rules an origin relies on', () => {
  // §4.3.4: "For each stored response identified, the cache MUST update its header fields with the
  // header fields provided in the 304 (Not Modified) response". The revalidation named only the
  // stored response's ETag, so a 304 that does not repeat it can only be about that response.
  test('a 304 without ETag or Last-Modified freshens the stored response with its fields, and it is served', async () => {
    const origin = await originWith((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { 'cache-control': 'max-age=600', 'x-revalidated': 'yes' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=0' });
      res.end('body v1');
    });
    const proxy = await proxyFor(origin);
    expect(await get(`${proxy.url}/origin/doc`)).toMatchObject({ cache: 'MISS' });
    const revalidated = await get(`${proxy.url}/origin/doc`);
    expect(revalidated).toMatchObject({ status: 200, cache: 'REVALIDATED' });
    expect(revalidated.body.toString()).toBe('body v1');
    expect(revalidated.headers.get('x-revalidated')).toBe('yes');
    expect(revalidated.headers.get('etag')).toBe('"v1"');
    // The 304's max-age=600 made it fresh.
    expect(await get(`${proxy.url}/origin/doc`)).toMatchObject({ cache: 'HIT' });
    expect(origin.count('/doc')).toBe(2);
  });

  // §5.2: "Cache directives are identified by a token, to be compared case-insensitively"
  test('directive names in any case: MaX-AgE is reused, No-CaChE is revalidated', async () => {
    const origin = await originWith((req, res) => {
      const cacheControl = req.url === '/fresh' ? 'MaX-AgE=3600' : 'max-age=3600, No-CaChE';
      res.writeHead(200, { 'cache-control': cacheControl, etag: '"e"' });
      res.end('body');
    });
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/fresh`);
    expect(await get(`${proxy.url}/origin/fresh`)).toMatchObject({ cache: 'HIT' });
    await get(`${proxy.url}/origin/no-cache`);
    expect(await get(`${proxy.url}/origin/no-cache`)).toMatchObject({ cache: 'MISS' });
    expect(origin.requests.at(-1)?.headers['if-none-match']).toBe('"e"');
    expect([origin.count('/fresh'), origin.count('/no-cache')]).toEqual([1, 2]);
  });

  // §5.3: "A cache recipient MUST interpret invalid date formats, especially the value "0", as
  // representing a time in the past (i.e., "already expired")."; §4.2.1: "two Expires header field
  // lines ... either the first occurrence should be used or the response should be considered stale"
  test('a malformed Expires means already expired; a valid one is honoured', async () => {
    const expiresOf: Record<string, string | string[]> = {
      '/valid': 'Thu, 01 Dec 2094 16:00:00 GMT',
      '/dashes': 'Thu, 01-Dec-2094 16:00:00 GMT',
      '/one-digit-hour': 'Thu, 01 Dec 2094 6:00:00 GMT',
      '/no-comma': 'Thu 01 Dec 2094 16:00:00 GMT',
      '/two-lines': ['Thu, 01 Dec 2094 16:00:00 GMT', 'Thu, 01 Dec 2094 16:00:00 GMT'],
    };
    const origin = await originWith((req, res) => {
      res.setHeader('expires', expiresOf[req.url ?? ''] ?? '0');
      res.end('dated');
    });
    const proxy = await proxyFor(origin);
    for (const path of Object.keys(expiresOf)) {
      await get(`${proxy.url}/origin${path}`);
      expect([path, (await get(`${proxy.url}/origin${path}`)).cache]).toEqual([
        path,
        path === '/valid' ? 'HIT' : 'MISS',
      ]);
    }
  });

  // §5.1: "If the field value ... is invalid (e.g., it contains something other than a non-negative
  // integer), a cache SHOULD ignore the field."
  test('an Age that is not a non-negative integer is ignored', async () => {
    const ageOf: Record<string, string> = { '/valid': '300', '/fraction': '300.5', '/negative': '-300' };
    const origin = await originWith((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', age: ageOf[req.url ?? ''] ?? '' });
      res.end('aged');
    });
    const proxy = await proxyFor(origin);
    for (const path of Object.keys(ageOf)) await get(`${proxy.url}/origin${path}`);
    const caches = [];
    for (const path of Object.keys(ageOf)) caches.push((await get(`${proxy.url}/origin${path}`)).cache);
    // Age 300 is past max-age=60; ignored, the other two leave the responses fresh.
    expect(caches).toEqual(['MISS', 'HIT', 'HIT']);
  });

  // §4.3.2: the cache "SHOULD evaluate any applicable conditional header field preconditions received
  // in that request with respect to the corresponding validators contained within the stored
  // response"; RFC 9110 §13.1.3: "If the selected representation's last modification date is earlier
  // or equal to the date provided in the field value, the condition is false."
  test("a client's If-Modified-Since is answered 304 from a fresh stored response", async () => {
    const lastModified = 'Thu, 01 Jan 2026 10:00:00 GMT';
    const origin = await originWith((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'last-modified': lastModified });
      res.end('dated');
    });
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/dated`);
    const notModified = await conditionalGet(`${proxy.url}/origin/dated`, { 'if-modified-since': lastModified });
    expect(notModified).toEqual({ status: 304, cache: 'HIT', body: '' });
    const modified = await conditionalGet(`${proxy.url}/origin/dated`, {
      'if-modified-since': 'Wed, 31 Dec 2025 10:00:00 GMT',
    });
    expect(modified).toEqual({ status: 200, cache: 'HIT', body: 'dated' });
    expect(origin.count('/dated')).toBe(1);
  });

  // §3: the response "contains at least one of the following: ... a max-age response directive ...;
  // or a status code that is defined as heuristically cacheable"; §4.2.2 allows a heuristic
  // lifetime from Last-Modified for those.
  test('other statuses are stored: with explicit freshness, or heuristically cacheable', async () => {
    const hourAgo = new Date(Date.now() - 10 * 3_600_000).toUTCString();
    const origin = await originWith((req, res) => {
      if (req.url === '/gone') res.writeHead(404, { 'cache-control': 'max-age=600' });
      else if (req.url === '/moved') res.writeHead(301, { location: '/new', 'last-modified': hourAgo });
      else if (req.url === '/temporary') res.writeHead(302, { location: '/new', 'cache-control': 'max-age=600' });
      else if (req.url === '/down') res.writeHead(503, { 'cache-control': 'max-age=600' });
      else res.writeHead(302, { location: '/new' });
      res.end(`answer for ${req.url}`);
    });
    const proxy = await proxyFor(origin);
    const send = (path: string) => fetch(`${proxy.url}/origin${path}`, { redirect: 'manual' });
    for (const [path, status] of [
      ['/gone', 404],
      ['/moved', 301],
      ['/temporary', 302],
      ['/down', 503],
    ] as const) {
      await (await send(path)).arrayBuffer();
      const again = await send(path);
      expect([path, again.status, again.headers.get('x-switchyard-cache'), await again.text()]).toEqual([
        path,
        status,
        'HIT',
        `answer for ${path}`,
      ]);
    }
    // A 302 is not heuristically cacheable: without explicit freshness it is not kept.
    await (await send('/plain-302')).arrayBuffer();
    expect((await send('/plain-302')).headers.get('x-switchyard-cache')).toBe('MISS');
  });

  // §5.2.2.2: "once the response has become stale, a cache MUST NOT reuse that response to satisfy
  // another request until it has been successfully validated by the origin": while fresh, it is used.
  test('a fresh max-age, must-revalidate response is reused', async () => {
    const origin = await originWith((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600, must-revalidate' });
      res.end('strict');
    });
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/strict`);
    expect(await get(`${proxy.url}/origin/strict`)).toMatchObject({ cache: 'HIT' });
    expect(origin.count('/strict')).toBe(1);
  });

  // §4.4: "A cache MUST invalidate the target URI ... when it receives a non-error status code in
  // response to an unsafe request method" and it "MAY invalidate ... the URI(s) in the Location and
  // Content-Location response header fields", never on another origin.
  test('a successful POST, PUT or DELETE invalidates its URI, and its Location and Content-Location on the same origin', async () => {
    let version = 1;
    const origin = await originWith((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'cache-control': 'max-age=600' });
        res.end(`${req.url} v${version}`);
        return;
      }
      version += 1;
      req.resume();
      const headers: Record<string, string> = {};
      if (req.url === '/create') headers.location = '/a';
      if (req.url === '/rename') headers['content-location'] = `${origin.url}/b`;
      if (req.url === '/elsewhere') headers.location = 'http://elsewhere.test/c';
      res.writeHead(req.url === '/missing' ? 404 : 200, headers);
      res.end();
    });
    const proxy = await proxyFor(origin);
    const body = async (path: string) => (await get(`${proxy.url}/origin${path}`)).body.toString();
    const send = (method: string, path: string) =>
      fetch(`${proxy.url}/origin${path}`, { method }).then((r) => r.text());
    for (const path of ['/a', '/b', '/c', '/d', '/missing']) await body(path);

    await send('PUT', '/d');
    expect(await body('/d')).toBe('/d v2');
    await send('POST', '/create');
    expect(await body('/a')).toBe('/a v3');
    await send('DELETE', '/rename');
    expect(await body('/b')).toBe('/b v4');
    await send('POST', '/elsewhere');
    expect(await body('/c')).toBe('/c v1');
    // An error answer invalidates nothing.
    await send('DELETE', '/missing');
    expect(await body('/missing')).toBe('/missing v1');
  });

  // §4.1: "The header fields from two requests are defined to match if and only if those in the
  // first request can be transformed to those in the second request by applying any of the
  // following: adding or removing whitespace, where allowed in the header field's syntax; combining
  // multiple header field lines with the same field name".
  test('Vary compares the selecting fields after normalising whitespace and combining lines', async () => {
    const origin = await originWith((req, res) => {
      res.writeHead(200, { vary: 'Accept-Encoding', 'cache-control': 'max-age=600' });
      res.end(`for ${req.headers['accept-encoding']}`);
    });
    const proxy = await proxyFor(origin);
    const url = `${proxy.url}/origin/negotiated`;
    await get(url, { 'accept-encoding': 'gzip,deflate' });
    expect(await get(url, { 'accept-encoding': ' gzip ,  deflate' })).toMatchObject({ cache: 'HIT' });
    const twoLines = await rawGet(proxy.url, '/origin/negotiated', [
      'Accept-Encoding: gzip',
      'Accept-Encoding: deflate',
    ]);
    expect(twoLines).toMatch(/^x-switchyard-cache: HIT\r$/im);
    expect(await get(url, { 'accept-encoding': 'gzip' })).toMatchObject({ cache: 'MISS' });
    expect(origin.count('/negotiated')).toBe(2);
  });

  // RFC 5861 §3: "If a cached response is served stale due to the presence of this extension, the
  // cache SHOULD attempt to revalidate it while still serving stale responses (i.e., without
  // blocking)."
  test('stale-while-revalidate: stale served at once, one revalidation in the background', async () => {
    let version = 'v1';
    const revalidation = gate();
    const origin = await originWith(async (req, res) => {
      if (req.headers['if-none-match'] !== undefined) await revalidation.opened;
      res.writeHead(200, {
        etag: `"${version}"`,
        age: '120',
        'cache-control': 'max-age=60, stale-while-revalidate=600',
      });
      res.end(`body ${version}`);
    });
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/swr`);
    version = 'v2';
    // The origin holds the revalidation: the stale answers cannot have waited for it.
    for (let i = 0; i < 3; i++) {
      const stale = await get(`${proxy.url}/origin/swr`);
      expect([stale.cache, stale.body.toString()]).toEqual(['STALE', 'body v1']);
      expect(stale.headers.get('warning')).toBe('110 - "Response is Stale"');
    }
    expect(origin.count('/swr')).toBe(2);
    revalidation.open();
    // The revalidation brought v2, which replaces v1 once its fill has committed.
    let latest = '';
    while (latest !== 'body v2') latest = (await get(`${proxy.url}/origin/swr`)).body.toString();
    expect(proxy.stats().cache.entries).toBe(1);
  });
});

describe('when the origin fails', () => {
  function expiringOrigin(cacheControl: string) {
    return originWith((req, res) => {
      if (req.url === '/broken') {
        res.writeHead(503);
        res.end('down for maintenance');
        return;
      }
      res.writeHead(200, { etag: '"e"', 'cache-control': cacheControl });
      res.end('kept');
    });
  }

  test('an unreachable origin: the stale entry is served, and says so', async () => {
    const origin = await expiringOrigin('max-age=0');
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/file`);
    await origin.close();
    const stale = await get(`${proxy.url}/origin/file`);
    expect(stale).toMatchObject({ status: 200, cache: 'STALE' });
    expect(stale.headers.get('warning')).toBe('111 - "Revalidation Failed"');
    expect(stale.body.toString()).toBe('kept');
    expect(proxy.stats().upstreams.origin?.stale).toBe(1);
  });

  test('must-revalidate forbids it: a 502 error instead', async () => {
    const origin = await expiringOrigin('max-age=0, must-revalidate');
    const proxy = await proxyFor(origin);
    await get(`${proxy.url}/origin/file`);
    await origin.close();
    const failed = await get(`${proxy.url}/origin/file`);
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.body.toString()).error.code).toBe('upstream-unavailable');
  });

  test('a 5xx answer is relayed when nothing is cached', async () => {
    const origin = await expiringOrigin('max-age=0');
    const proxy = await proxyFor(origin);
    const answer = await get(`${proxy.url}/origin/broken`);
    expect([answer.status, answer.body.toString()]).toEqual([503, 'down for maintenance']);
  });

  test('a 5xx shared by waiters: the first request gets it whole, the others an error of their own', async () => {
    const answer = gate();
    const origin = await originWith(async (_req, res) => {
      await answer.opened;
      res.writeHead(503, { 'content-length': 20 });
      res.flushHeaders();
      await new Promise((resolve) => setTimeout(resolve, 100));
      res.end('down for maintenance');
    });
    const proxy = await proxyFor(origin);
    const first = get(`${proxy.url}/origin/broken`);
    await until(() => origin.count('/broken') === 1);
    const second = get(`${proxy.url}/origin/broken`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer.open();
    const [mine, theirs] = await Promise.all([first, second]);
    expect([mine.status, mine.body.toString()]).toEqual([503, 'down for maintenance']);
    expect([502, 503]).toContain(theirs.status);
  });

  test('an origin that dies mid-body: every waiter gets a cut-off response, and nothing is kept', async () => {
    const half = gate();
    const origin = await originWith(async (_req, res) => {
      res.writeHead(200, { 'content-length': 2 ** 20, 'cache-control': 'max-age=600' });
      res.write(randomBytes(2 ** 19));
      await half.opened;
      res.destroy();
    });
    const proxy = await proxyFor(origin);
    const first = get(`${proxy.url}/origin/dies`);
    await until(() => origin.count('/dies') === 1);
    const second = get(`${proxy.url}/origin/dies`);
    await until(() => proxy.stats().upstreams.origin?.collapsed === 1);
    half.open();
    const waiters = [first, second];
    for (const result of await Promise.allSettled(waiters)) expect(result.status).toBe('rejected');
    expect(proxy.stats().cache.entries).toBe(0);
    expect(origin.count('/dies')).toBe(1);
  });

  test('a content-addressed body that does not match its digest is cut off and not kept', async () => {
    const origin = await originWith((_req, res) => res.end('not what the URL names'));
    const proxy = await proxyFor(origin);
    const url = `${proxy.url}/origin/blobs/sha256/${sha256(Buffer.from('something else'))}`;
    await expect(get(url)).rejects.toThrow();
    expect(proxy.stats().cache.entries).toBe(0);
  });
});

describe('disk bound', () => {
  test('LRU eviction keeps the cache under --max-size; recently used entries stay', async () => {
    const objects = new Map<string, Buffer>(Array.from({ length: 8 }, (_, i) => [`/o${i}`, randomBytes(2 ** 20)]));
    const origin = await originWith((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      res.end(objects.get(req.url ?? ''));
    });
    const maxBytes = 4.5 * 2 ** 20;
    const cacheDir = mkdtempSync(join(tmpdir(), 'switchyard-proxy-'));
    cleanups.push(() => rmSync(cacheDir, { recursive: true, force: true }));
    const proxy = await proxyFor(origin, { maxBytes, cacheDir });
    for (const [path, body] of objects) {
      expect(sha256((await get(`${proxy.url}/origin${path}`)).body)).toBe(sha256(body));
      // /o0 is used after every fill, so it stays the most recently used.
      expect((await get(`${proxy.url}/origin/o0`)).cache).toBe('HIT');
      expect(proxy.stats().cache.bytes).toBeLessThanOrEqual(maxBytes);
      expect(bytesOnDisk(join(cacheDir, 'entries'))).toBeLessThan(maxBytes + 64 * 1024);
    }
    expect(proxy.stats().cache.evictions).toBeGreaterThan(0);
    expect((await get(`${proxy.url}/origin/o7`)).cache).toBe('HIT');
    expect((await get(`${proxy.url}/origin/o1`)).cache).toBe('MISS');
  });

  test('an object larger than the cache streams through whole, without being kept', async () => {
    const body = randomBytes(6 * 2 ** 20);
    const origin = await originWith((_req, res: ServerResponse) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      for (let offset = 0; offset < body.length; offset += 2 ** 16) res.write(body.subarray(offset, offset + 2 ** 16));
      res.end();
    });
    const proxy = await proxyFor(origin, { maxBytes: 2 ** 20 });
    const [a, b] = await Promise.all([get(`${proxy.url}/origin/huge`), get(`${proxy.url}/origin/huge`)]);
    expect(sha256(a?.body as Buffer)).toBe(sha256(body));
    expect(sha256(b?.body as Buffer)).toBe(sha256(body));
    expect(proxy.stats().cache).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('bodies held in memory', () => {
  async function memoryBytes(proxy: RunningProxy): Promise<number> {
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    return Number(/^switchyard_proxy_cache_memory_bytes (\d+)$/m.exec(metrics)?.[1]);
  }

  test('a hit keeps a small body in memory, within --memory-size; 0 keeps none', async () => {
    const objects = new Map<string, Buffer>(Array.from({ length: 3 }, (_, i) => [`/o${i}`, randomBytes(2 ** 20)]));
    const origin = await originWith((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      res.end(objects.get(req.url ?? ''));
    });
    const proxy = await proxyFor(origin, { memoryBytes: 2.5 * 2 ** 20 });
    for (const [path, body] of objects) {
      for (const cache of ['MISS', 'HIT', 'HIT']) {
        const answer = await get(`${proxy.url}/origin${path}`);
        expect(answer.cache).toBe(cache);
        expect(sha256(answer.body)).toBe(sha256(body));
      }
    }
    expect(await memoryBytes(proxy)).toBe(2 * 2 ** 20);
    const range = await get(`${proxy.url}/origin/o2`, { range: 'bytes=10-19' });
    expect(range.status).toBe(206);
    expect(range.body).toEqual((objects.get('/o2') as Buffer).subarray(10, 20));

    const withoutMemory = await proxyFor(origin, { memoryBytes: 0 });
    await get(`${withoutMemory.url}/origin/o0`);
    const hit = await get(`${withoutMemory.url}/origin/o0`);
    expect(hit.cache).toBe('HIT');
    expect(sha256(hit.body)).toBe(sha256(objects.get('/o0') as Buffer));
    expect(await memoryBytes(withoutMemory)).toBe(0);
  });

  test('a body replaced by a new version, or invalidated, is never served from memory', async () => {
    let version = 1;
    const origin = await originWith((req, res) => {
      if (req.method !== 'GET') {
        version += 1;
        req.resume();
        res.writeHead(204);
        res.end();
        return;
      }
      const etag = `"v${version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': 'max-age=0' });
        res.end();
        return;
      }
      res.writeHead(200, { etag, 'cache-control': req.url === '/stale' ? 'max-age=0' : 'max-age=600' });
      res.end(`${req.url} v${version}`);
    });
    const proxy = await proxyFor(origin);
    const body = async (path: string) => (await get(`${proxy.url}/origin${path}`)).body.toString();

    expect(await body('/stale')).toBe('/stale v1');
    expect(await body('/stale')).toBe('/stale v1');
    version = 2;
    expect(await body('/stale')).toBe('/stale v2');
    expect(await get(`${proxy.url}/origin/stale`)).toMatchObject({ cache: 'REVALIDATED' });
    expect(await body('/stale')).toBe('/stale v2');

    expect(await body('/fresh')).toBe('/fresh v2');
    expect(await get(`${proxy.url}/origin/fresh`)).toMatchObject({ cache: 'HIT' });
    await fetch(`${proxy.url}/origin/fresh`, { method: 'PUT', body: 'new' }).then((r) => r.text());
    expect(await body('/fresh')).toBe('/fresh v3');
    expect(await get(`${proxy.url}/origin/fresh`)).toMatchObject({ cache: 'HIT' });
    expect(await body('/fresh')).toBe('/fresh v3');
  });

  test('a body whose file changed on disk is checked again, not served from memory', async () => {
    const body = randomBytes(2 ** 16);
    const origin = await originWith((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      res.end(body);
    });
    const cacheDir = mkdtempSync(join(tmpdir(), 'switchyard-proxy-'));
    cleanups.push(() => rmSync(cacheDir, { recursive: true, force: true }));
    const proxy = await proxyFor(origin, { cacheDir });
    await get(`${proxy.url}/origin/x`);
    expect(await get(`${proxy.url}/origin/x`)).toMatchObject({ cache: 'HIT' });
    const [bodyFile] = readdirSync(join(cacheDir, 'entries'), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.body'))
      .map((name) => join(cacheDir, 'entries', name));
    writeFileSync(bodyFile as string, randomBytes(body.length));
    const later = new Date(Date.now() + 5_000);
    utimesSync(bodyFile as string, later, later);

    const after = await get(`${proxy.url}/origin/x`);
    expect(after.cache).toBe('MISS');
    expect(sha256(after.body)).toBe(sha256(body));
    expect(origin.count('/x')).toBe(2);
  });
});

/** A small file system of its own (tmpfs), where the machine lets the test mount one (root). */
function smallDisk(megabytes: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-proxy-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  cleanups.push(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('a disk that fills up mid-body: every reader still gets the whole body, then requests go through', async (context) => {
  const disk = smallDisk(96);
  // Mounting needs root; where the test can't, it is reported as skipped.
  if (!disk) return context.skip('needs root to mount a small tmpfs');
  const cacheDir = join(disk, 'cache');
  mkdirSync(cacheDir);
  // No Content-Length: the fill cannot know in advance that the disk is too small.
  const body = randomBytes(112 * 2 ** 20);
  const origin = await originWith((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=600' });
    for (let offset = 0; offset < body.length; offset += 2 ** 20) res.write(body.subarray(offset, offset + 2 ** 20));
    res.end();
  });
  const proxy = await proxyFor(origin, { maxBytes: 2 ** 30, cacheDir });
  const readers = await Promise.all([get(`${proxy.url}/origin/big`), get(`${proxy.url}/origin/big`)]);
  for (const reader of readers) expect(sha256(reader.body)).toBe(sha256(body));
  expect(proxy.stats().cache).toMatchObject({ entries: 0, bytes: 0 });
  expect(origin.count('/big')).toBe(1);
  // The partial file goes once its last reader has left.
  await until(() => readdirSync(join(cacheDir, 'tmp')).length === 0);
  const after = await get(`${proxy.url}/origin/big`);
  expect(sha256(after.body)).toBe(sha256(body));
  expect(after.cache).toBe('MISS');
});

test('/_stats and /metrics count per upstream and the bandwidth saved', async () => {
  const body = randomBytes(10_000);
  const origin = await originWith((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=600' });
    res.end(body);
  });
  const proxy = await proxyFor(origin);
  for (let i = 0; i < 4; i++) await get(`${proxy.url}/origin/x`);
  const stats = (await (await fetch(`${proxy.url}/_stats`)).json()) as ProxyStats;
  expect(stats.upstreams.origin).toMatchObject({
    hits: 3,
    misses: 1,
    collapsed: 0,
    bytes_from_upstream: 10_000,
    bytes_served: 40_000,
    bandwidth_saved: 0.75,
  });
  const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
  expect(metrics).toContain('switchyard_proxy_requests_total{upstream="origin",cache="HIT"} 3');
  expect(metrics).toContain('switchyard_proxy_bandwidth_saved_ratio{upstream="origin"} 0.75');
});
