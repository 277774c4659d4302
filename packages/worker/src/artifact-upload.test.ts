import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSha256, uploadWithExpect } from './artifact-upload.ts';

describe('uploadWithExpect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'upload-'));
  const file = join(dir, 'payload.bin');
  const content = Buffer.alloc(3 * 1024 * 1024, 7);
  const digest = createHash('sha256').update(content).digest('hex');
  let server: Server;
  let url: string;
  const received: { name: string; bytes: number; headers: IncomingMessage['headers'] }[] = [];

  beforeAll(async () => {
    writeFileSync(file, content);
    // A server that decides from the headers alone, as the coordinator does.
    server = createServer((request, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      request.on('end', () => {
        received.push({ name: request.url as string, bytes, headers: request.headers });
        response.writeHead(201).end('{}');
      });
    });
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      if (request.url === '/refuse') {
        response.writeHead(413, { connection: 'close' }).end('{"error":{"code":"payload-too-large","message":"no"}}');
      } else if (request.url === '/stored') {
        response.writeHead(200, { connection: 'close' }).end('{}');
      } else {
        response.writeContinue();
        server.emit('request', request, response);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (path: string) =>
    uploadWithExpect({
      url: `${url}${path}`,
      token: 'secret',
      file,
      size: content.length,
      sha256: digest,
      signal: AbortSignal.timeout(10_000),
    });

  it('hashes a file as a stream', async () => {
    expect(await fileSha256(file)).toBe(digest);
  });

  it("sends the body once told to continue, with its digest, size and the attempt's credential", async () => {
    const answer = await upload('/store');
    expect(answer).toEqual({ status: 201, body: '{}', bodySent: true });
    const seen = received.find((r) => r.name === '/store');
    expect(seen?.bytes).toBe(content.length);
    expect(seen?.headers).toMatchObject({
      expect: '100-continue',
      'x-content-sha256': digest,
      authorization: 'Bearer secret',
      'content-length': String(content.length),
    });
  });

  it('sends no body when the server answers first: refused, or stored already', async () => {
    expect(await upload('/refuse')).toMatchObject({ status: 413, bodySent: false });
    expect(await upload('/stored')).toEqual({ status: 200, body: '{}', bodySent: false });
  });
});
