import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP relay in front of a server whose connections a test can cut: `cut()` destroys every
 * open connection and refuses new ones until `restore()`, as a flaky network or a restarted
 * proxy would. The browser talks to the relay; the test keeps talking to the server directly.
 */
export class ConnectionCutter {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private readonly server = createServer((client) => {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  private constructor(private readonly targetPort: number) {}

  static async start(targetUrl: string): Promise<ConnectionCutter & { url: string }> {
    const cutter = new ConnectionCutter(Number(new URL(targetUrl).port));
    cutter.server.listen(0, '127.0.0.1');
    await once(cutter.server, 'listening');
    const address = cutter.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return Object.assign(cutter, { url: `http://127.0.0.1:${port}` });
  }

  cut(): void {
    this.refusing = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    this.server.close();
    await once(this.server, 'close');
  }
}
