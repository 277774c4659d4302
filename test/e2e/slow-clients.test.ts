import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, type TestServer } from '../helpers/processes.ts';

/**
 * Clients that hold the coordinator's connections: bodies dripped a byte at a time, bodies sent
 * to a request already refused, and one address opening more connections than its share. Each
 * client below comes from an address of its own on the loopback network (127.0.0.0/8), so one
 * client's limit never touches another's.
 */
const PUSH_TOKEN = 'push-secret';
const CONFIG = `
repos: [{ name: demo, url: $REPO }]
server: { body_timeout_seconds: 1, min_body_bytes_per_second: 64, max_connections_per_client: 4 }
auth:
  public_read: true
  tokens: [{ name: pusher, sha256: ${createHash('sha256').update(PUSH_TOKEN).digest('hex')}, scopes: [push] }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: b, run: "true" }] }
`;

/** Long enough for any check of a 1 s body period; the coordinator closes far sooner when it works. */
const GIVE_UP_MS = 15_000;

interface RawClient {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with everything received once the coordinator closed the connection; rejects if it stays open. */
  closed(): Promise<string>;
}

async function rawClient(server: TestServer, from: string): Promise<RawClient> {
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port), localAddress: from });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  // A close may come as a reset while the client is still writing; the test reads what arrived.
  socket.on('error', () => {});
  const ended = once(socket, 'close');
  await once(socket, 'connect');
  return {
    socket,
    received: () => text,
    async closed() {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the connection is still open after ${GIVE_UP_MS} ms; received: ${text}`)),
          GIVE_UP_MS,
        );
      });
      try {
        await Promise.race([ended, gaveUp]);
      } finally {
        clearTimeout(timer);
      }
      return text;
    },
  };
}

/** Writes `chunk` every `everyMs` until the connection closes. */
function drip(socket: Socket, chunk: string, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed || socket.writableEnded) clearInterval(timer);
    else socket.write(chunk);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

function pushHead(contentLength: number, token?: string): string {
  const auth = token ? `Authorization: Bearer ${token}\r\n` : '';
  return `POST /api/v1/pushes HTTP/1.1\r\nHost: switchyard\r\n${auth}Content-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;
}

/** A GET from another client address, through node:http. */
function getFrom(server: TestServer, from: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { localAddress: from, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

describe('slow and greedy clients', () => {
  const farm = new TestFarm();
  let server: TestServer;

  beforeAll(async () => {
    farm.commit('main', { 'README.md': 'hello' });
    farm.writeConfig(CONFIG);
    server = await startServer({ config: farm.config, data: farm.data });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('cuts off a request body sent a byte at a time, answering 408', async () => {
    const client = await rawClient(server, '127.0.0.11');
    client.socket.write(pushHead(500, PUSH_TOKEN));
    drip(client.socket, '{', 100);

    const text = await client.closed();
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('keeps a body that arrives slowly but at the minimum rate, over several periods', async () => {
    const body = `{"repo":"demo","branch":"main","revision":"${'a'.repeat(40)}"${' '.repeat(800)}}`;
    const client = await rawClient(server, '127.0.0.12');
    client.socket.write(pushHead(Buffer.byteLength(body), PUSH_TOKEN));
    // 100 bytes every 250 ms: 400 B/s for about two seconds, against a minimum of 64 B/s a second.
    for (let at = 0; at < body.length; at += 100) {
      client.socket.write(body.slice(at, at + 100));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    client.socket.end();

    const text = await client.closed();
    expect(text).toMatch(/^HTTP\/1\.1 201 /);
  });

  it("closes the connection of a request refused before its body, instead of reading the body's rest", async () => {
    const client = await rawClient(server, '127.0.0.13');
    client.socket.write(pushHead(10_000_000));
    // Well above the minimum rate, so only the refusal can end it: 2,000 B/s of a 10 MB body.
    drip(client.socket, ' '.repeat(100), 50);

    const text = await client.closed();
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text.toLowerCase()).toContain('connection: close');
  });

  it("refuses one client's connections past its share, while another client is still answered", async () => {
    const greedy = '127.0.0.14';
    const held: RawClient[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await rawClient(server, greedy);
      // A kept-alive request answered, so the coordinator has counted this connection.
      client.socket.write('GET /api/v1/server HTTP/1.1\r\nHost: switchyard\r\n\r\n');
      while (!client.received().includes('\r\n\r\n')) await once(client.socket, 'data');
      expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
      held.push(client);
    }

    for (let i = 0; i < 2; i++) {
      const extra = await rawClient(server, greedy);
      const text = await extra.closed();
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toContain('"code":"too-many-connections"');
    }
    const other = await getFrom(server, '127.0.0.15', '/api/v1/server');
    expect(other.status).toBe(200);

    for (const client of held) client.socket.destroy();
  });

  it('counts each of these in /metrics and says so in its log', async () => {
    const { status, body } = await getFrom(server, '127.0.0.16', '/metrics');
    expect(status).toBe(200);
    const closed = (reason: string) => metric(body, `switchyard_http_connections_closed_total{reason="${reason}"}`);
    expect(closed('slow-body')).toBe(1);
    expect(closed('refused-before-body')).toBe(1);
    expect(closed('client-limit')).toBe(2);

    const log = server.output();
    expect(log).toContain('cut off a request body arriving slower than server.min_body_bytes_per_second');
    expect(log).toContain('closed a connection whose request was refused before its body was read');
    expect(log).toContain('refused a connection over server.max_connections_per_client');
  });
});
