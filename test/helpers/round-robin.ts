import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';

const HEALTH_CHECK_MS = 250;
const HEALTH_TIMEOUT_MS = 1000;
/** How long a request without a body waits for a replica's answer before trying the next one. */
const BODILESS_ANSWER_TIMEOUT_MS = 5_000;
/** How long a request with a body (a long-poll claim among them) waits, as nginx's proxy_read_timeout. */
const ANSWER_TIMEOUT_MS = 60_000;

/**
 * A load balancer for tests: each request goes to the next healthy replica in turn, unbuffered
 * both ways (long polls and event streams pass as they come), as nginx with `proxy_buffering
 * off` does. Like a real balancer's active health check, it asks each replica's `/healthz` every
 * quarter second and leaves out one that doesn't answer within a second (a stopped process
 * accepts connections but answers nothing). A request without a body whose replica fails before
 * answering (refused, reset, or silent for 5 s: a stopped process) goes to the next one; one with
 * a body gets a 502 (504 after a minute's silence), which clients retry as they would behind a
 * real balancer.
 */
export class RoundRobin {
  private next = 0;
  private readonly server: Server;
  private readonly unhealthy = new Set<string>();
  private readonly checks: NodeJS.Timeout;
  /** Requests answered by each replica, by its URL. */
  readonly served = new Map<string, number>();

  private constructor(private readonly targets: string[]) {
    this.server = createServer((req, res) => this.forward(req, res, 0));
    this.checks = setInterval(() => {
      for (const target of targets) void this.check(target);
    }, HEALTH_CHECK_MS);
  }

  static async start(targets: string[]): Promise<RoundRobin> {
    const balancer = new RoundRobin(targets);
    balancer.server.listen(0, '127.0.0.1');
    await once(balancer.server, 'listening');
    return balancer;
  }

  private async check(target: string): Promise<void> {
    try {
      const answer = await fetch(`${target}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      if (answer.ok) this.unhealthy.delete(target);
      else this.unhealthy.add(target);
    } catch {
      this.unhealthy.add(target);
    }
  }

  /** The next replica to send to: a healthy one when there is one. */
  private pick(): string {
    for (let i = 0; i < this.targets.length; i++) {
      const target = this.targets[this.next++ % this.targets.length] as string;
      if (!this.unhealthy.has(target)) return target;
    }
    return this.targets[this.next++ % this.targets.length] as string;
  }

  get url(): string {
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  private forward(req: IncomingMessage, res: ServerResponse, tried: number): void {
    const target = new URL(this.pick());
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        clearTimeout(silence);
        this.served.set(target.origin, (this.served.get(target.origin) ?? 0) + 1);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    const silence = setTimeout(
      () => upstream.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })),
      hasBody ? ANSWER_TIMEOUT_MS : BODILESS_ANSWER_TIMEOUT_MS,
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(silence);
      if (res.headersSent) return res.destroy();
      // As nginx's proxy_next_upstream: a request without a body is tried on the next replica.
      if (!hasBody && tried + 1 < this.targets.length) {
        return this.forward(req, res, tried + 1);
      }
      res.writeHead(error.code === 'ETIMEDOUT' ? 504 : 502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'upstream-unavailable', message: `${target.origin}: ${error.message}` }));
    });
    res.on('close', () => {
      clearTimeout(silence);
      if (!res.writableFinished) upstream.destroy();
    });
    if (hasBody) req.pipe(upstream);
    else upstream.end();
  }

  async close(): Promise<void> {
    clearInterval(this.checks);
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
