import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from '@switchyard/protocol';
import type { Settings } from '../config/farm-config.ts';
import type { Metrics } from '../metrics.ts';
import type { ThrottledLog } from '../throttled-log.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The limits of `server:` the guard enforces; read at every use, so a reload changes them. */
export type ConnectionLimits = Pick<
  Settings,
  'bodyTimeoutSeconds' | 'minBodyBytesPerSecond' | 'maxConnectionsPerClient'
>;

/** What a body's periodic check decides. */
export type BodyVerdict = 'done' | 'cut-off' | 'again';

export interface BodyProgress {
  /** The whole body has arrived. */
  complete: boolean;
  /** Bytes received on the connection during the period. */
  bytes: number;
  /** What has arrived waits for the coordinator to read it: the client is not the slow one. */
  backlogged: boolean;
}

/**
 * A body must keep a minimum rate, period after period: a total cap would cut off large
 * uploads, and a timeout between chunks would never catch a body that sends a byte every
 * second. While the coordinator itself is behind (a slow disk under an upload), the client is
 * not judged.
 */
export function bodyVerdict(progress: BodyProgress, limits: ConnectionLimits): BodyVerdict {
  if (progress.complete) return 'done';
  if (progress.backlogged) return 'again';
  return progress.bytes < limits.minBodyBytesPerSecond * limits.bodyTimeoutSeconds ? 'cut-off' : 'again';
}

/** The client a connection comes from, with an IPv4 address seen through an IPv6 socket written as IPv4. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

/** Open connections by client address. */
export class ClientConnections {
  private readonly open = new Map<string, number>();

  /** Counts a new connection, unless the client holds `cap` already (0: no cap). */
  admit(address: string, cap: number): boolean {
    const count = this.open.get(address) ?? 0;
    if (cap > 0 && count >= cap) return false;
    this.open.set(address, count + 1);
    return true;
  }

  release(address: string): void {
    const count = (this.open.get(address) ?? 1) - 1;
    if (count > 0) this.open.set(address, count);
    else this.open.delete(address);
  }
}

const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/**
 * Keeps a client from holding the coordinator's connections: a request body below the minimum
 * rate is cut off (408 and closed); an error answered before the body was read closes its
 * connection instead of waiting for a body nobody will read; a client address over
 * `max_connections_per_client` is answered 503 and closed. Each is counted in
 * `switchyard_http_connections_closed_total` and logged, throttled, since an attack repeats them.
 */
export class ConnectionGuard {
  private readonly clients = new ClientConnections();
  /** Connections over their client's cap, being closed: no request on them is handled. */
  private readonly refused = new WeakSet<Socket>();

  constructor(
    private readonly limits: () => ConnectionLimits,
    private readonly metrics: Metrics,
    private readonly log: ThrottledLog,
  ) {}

  /** Counts the server's connections by client address, refusing those over the cap. */
  attach(server: Server): Server {
    server.on('connection', (socket: Socket) => {
      const address = clientAddress(socket.remoteAddress);
      const cap = this.limits().maxConnectionsPerClient;
      if (!this.clients.admit(address, cap)) {
        this.refuseOverCap(socket, address, cap);
        return;
      }
      this.metrics.connections.inc();
      socket.once('close', () => {
        this.clients.release(address);
        this.metrics.connections.dec();
      });
    });
    return server;
  }

  /** Wraps the server's request handler: a request's body is timed from here (see bodyVerdict). */
  timeBodies(handler: Handler): Handler {
    return (request, response) => {
      if (this.refused.has(request.socket)) return;
      if (hasBody(request)) this.timeBody(request, response);
      handler(request, response);
    };
  }

  /**
   * An error answered before its request's body arrived: true when the connection is to be
   * closed once the answer is out (the caller says `Connection: close`), rather than reading a
   * body nobody needs, or waiting for one that may never come.
   */
  closeAfterRefusal(request: IncomingMessage, response: ServerResponse): boolean {
    const socket = request.socket;
    // Complete, or a connection already being closed (a body cut off, a client gone): nothing to do.
    if (request.complete || socket.destroyed || socket.writableEnded) return false;
    response.once('finish', () => socket.destroy());
    this.metrics.connectionsClosed.inc({ reason: 'refused-before-body' });
    this.log.warn('closed a connection whose request was refused before its body was read', {
      client: clientAddress(socket.remoteAddress),
      method: request.method,
      url: request.url,
      status: response.statusCode,
    });
    return true;
  }

  private timeBody(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    let mark = socket.bytesRead;
    // Timed until the body is in or the connection gone, not just until the answer: a body the
    // answer did not need is still read off the connection after it.
    const check = () => {
      if (socket.destroyed) return;
      const limits = this.limits();
      const verdict = bodyVerdict(
        {
          complete: request.complete,
          bytes: socket.bytesRead - mark,
          backlogged: request.readableLength >= request.readableHighWaterMark,
        },
        limits,
      );
      if (verdict === 'done') return;
      if (verdict === 'cut-off') {
        this.cutOff(request, response, limits);
        return;
      }
      mark = socket.bytesRead;
      arm();
    };
    const arm = () => {
      setTimeout(check, this.limits().bodyTimeoutSeconds * 1000).unref();
    };
    arm();
  }

  private cutOff(request: IncomingMessage, response: ServerResponse, limits: ConnectionLimits): void {
    const socket = request.socket;
    this.metrics.connectionsClosed.inc({ reason: 'slow-body' });
    this.log.warn('cut off a request body arriving slower than server.min_body_bytes_per_second', {
      client: clientAddress(socket.remoteAddress),
      method: request.method,
      url: request.url,
      minBodyBytesPerSecond: limits.minBodyBytesPerSecond,
      bodyTimeoutSeconds: limits.bodyTimeoutSeconds,
    });
    closeWith(socket, response.headersSent ? '' : REQUEST_TIMEOUT);
  }

  private refuseOverCap(socket: Socket, address: string, cap: number): void {
    this.refused.add(socket);
    this.metrics.connectionsClosed.inc({ reason: 'client-limit' });
    this.log.warn('refused a connection over server.max_connections_per_client', { client: address, cap });
    const body: ErrorBody = {
      error: {
        code: 'too-many-connections',
        message: `${address} has ${cap} connections open, the most server.max_connections_per_client allows; close some and retry`,
        details: { cap },
      },
    };
    const text = JSON.stringify(body);
    closeWith(
      socket,
      `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
}

/** Sends the last words, then closes the connection whatever the client still sends. */
function closeWith(socket: Socket, text: string): void {
  socket.end(text);
  socket.once('finish', () => socket.destroy());
}

/** A request with a body to time: one with a length or chunked. */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}
