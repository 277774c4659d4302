import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route holds its request open by design (a long poll, a held heartbeat, a stream), so
     * its time goes to the long-request histogram; a function decides per request (a log is a
     * stream only when followed).
     */
    longLived?: boolean | ((request: FastifyRequest) => boolean);
  }
}

/** Times an answered request under its route pattern (`unmatched` when none matched). */
export function timeRoute(metrics: Metrics, request: FastifyRequest, reply: FastifyReply): void {
  const { url, config } = request.routeOptions;
  const longLived = typeof config.longLived === 'function' ? config.longLived(request) : config.longLived === true;
  metrics.routeLatency.observe({
    method: request.method,
    route: url ?? 'unmatched',
    status: reply.statusCode,
    seconds: reply.elapsedTime / 1000,
    longLived,
  });
}
