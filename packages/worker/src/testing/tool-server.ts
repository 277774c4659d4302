import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tooltool-style store for tests: files at `<url>/sha512/<digest>`, each GET counted. `answer`
 * can take over a request (a wrong body, an error status, a held response) before the file is sent.
 */
export interface TestToolServer {
  /** The base a client is given: `http://127.0.0.1:<port>/tools`. */
  url: string;
  /** Stores content and returns its sha512. */
  add(content: Buffer): string;
  /** GETs of one digest so far, or of every digest. */
  gets(digest?: string): number;
  answer: ((digest: string, response: ServerResponse, request: IncomingMessage) => boolean | Promise<boolean>) | null;
  close(): Promise<void>;
}

export async function startToolServer(): Promise<TestToolServer> {
  const files = new Map<string, Buffer>();
  const counts = new Map<string, number>();
  const server = createServer(async (request, response) => {
    const match = /^\/tools\/sha512\/([0-9a-f]{128})$/.exec(request.url ?? '');
    if (request.method !== 'GET' || !match?.[1]) {
      response.writeHead(404).end();
      return;
    }
    const digest = match[1];
    counts.set(digest, (counts.get(digest) ?? 0) + 1);
    if (await tool.answer?.(digest, response, request)) return;
    const content = files.get(digest);
    if (!content) response.writeHead(404).end('{"error":{"code":"not-found","message":"no such tool"}}');
    else response.writeHead(200, { 'content-length': content.length }).end(content);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const tool: TestToolServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tools`,
    add(content) {
      const digest = createHash('sha512').update(content).digest('hex');
      files.set(digest, content);
      return digest;
    },
    gets: (digest) =>
      digest === undefined ? [...counts.values()].reduce((sum, count) => sum + count, 0) : (counts.get(digest) ?? 0),
    answer: null,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return tool;
}
