import { Histogram, type Registry } from 'prom-client';

export interface RouteObservation {
  method: string;
  /** The route's pattern (`/api/v1/jobs/:id`), never the URL asked for: the label set stays bounded. */
  route: string;
  status: number;
  seconds: number;
  /**
   * A long poll or a stream (held claims and heartbeats, SSE, WebSocket, a followed log, a CPU
   * profile): its duration is how long it was held, not how fast it was answered, so it is
   * timed apart and never drowns the latencies of the rest.
   */
  longLived: boolean;
}

const LABELS = ['method', 'route', 'status_class'] as const;

/**
 * Per-route latency histograms, the same on the coordinator, the proxy and the signer:
 * `<prefix>http_request_duration_seconds` for requests answered as fast as they can be,
 * `<prefix>http_long_request_duration_seconds` for those held open by design.
 */
export class RouteLatency {
  private readonly answered: Histogram<(typeof LABELS)[number]>;
  private readonly held: Histogram<(typeof LABELS)[number]>;

  constructor(registry: Registry, prefix: string) {
    this.answered = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'Time to answer a request, by route pattern, method and status class (long polls and streams are in http_long_request_duration_seconds)',
      labelNames: LABELS,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.held = new Histogram({
      name: `${prefix}http_long_request_duration_seconds`,
      help: 'How long long polls and streams (claims, held heartbeats, SSE, WebSocket, followed logs, profiles) were held, by route pattern, method and status class',
      labelNames: LABELS,
      buckets: [0.1, 1, 5, 10, 30, 60, 300, 900, 3600, 14400],
      registers: [registry],
    });
  }

  observe(request: RouteObservation): void {
    const labels = { method: request.method, route: request.route, status_class: statusClass(request.status) };
    (request.longLived ? this.held : this.answered).observe(labels, request.seconds);
  }
}

/** `2xx`, `4xx`, …: enough to tell refusals and failures from answers without a label per code. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
