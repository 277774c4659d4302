import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface OriginRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A real HTTP origin for tests and benchmarks: answers with `handle`, and records every request it gets. */
export interface Origin {
  url: string;
  requests: OriginRequest[];
  /** How many requests came for this path (query included). */
  count(path: string): number;
  close(): Promise<void>;
}

export async function startOrigin(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Origin> {
  const requests: OriginRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (path) => requests.filter((request) => request.path === path).length,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Writes `body` in `chunkSize` pieces, `delayMs` apart: a slow origin. */
export async function writeSlowly(
  res: ServerResponse,
  body: Buffer,
  chunkSize: number,
  delayMs: number,
): Promise<void> {
  for (let offset = 0; offset < body.length && !res.destroyed; offset += chunkSize) {
    if (!res.write(body.subarray(offset, offset + chunkSize))) await once(res, 'drain');
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
