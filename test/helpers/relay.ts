import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** `up`: from the client to the server (an upload's body); `down`: back (a download's). */
export type Direction = 'up' | 'down';

interface Hold {
  direction: Direction;
  bytes: number;
  reached: () => void;
}

/**
 * A TCP relay in front of a server that can stop a transfer part-way, so a test knows a large
 * upload or download is in flight when it kills the server: `holdAfter` lets the first
 * connection that carries that many bytes one way carry no more that way. A connection the
 * server can't take (it is down) is closed at once, as a load balancer in front of it would.
 */
export class Relay {
  private readonly sockets = new Set<Socket>();
  private hold: Hold | null = null;
  private readonly server = createServer((client) => this.relay(client));

  private constructor(private readonly targetPort: number) {}

  static async start(targetUrl: string): Promise<Relay> {
    const relay = new Relay(Number(new URL(targetUrl).port));
    relay.server.listen(0, '127.0.0.1');
    await once(relay.server, 'listening');
    return relay;
  }

  /** Where clients connect instead of the server. */
  get url(): string {
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** Resolves once a connection has carried `bytes` in `direction`; it is stalled there from then on. */
  holdAfter(direction: Direction, bytes: number): Promise<void> {
    return new Promise((resolve) => {
      this.hold = { direction, bytes, reached: resolve };
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    this.forward(client, upstream, 'up');
    this.forward(upstream, client, 'down');
  }

  private forward(from: Socket, to: Socket, direction: Direction): void {
    let carried = 0;
    let held = false;
    from.on('data', (chunk: Buffer) => {
      // Stalled: what comes now is lost, as on a link gone dead. Reading on (rather than pausing)
      // still notices the other end closing, as when the server is killed.
      if (held) return;
      carried += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
      const hold = this.hold;
      if (hold?.direction === direction && carried >= hold.bytes) {
        this.hold = null;
        held = true;
        from.resume();
        hold.reached();
      }
    });
  }
}
