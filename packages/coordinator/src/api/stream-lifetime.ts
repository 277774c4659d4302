import type { FastifyRequest } from 'fastify';
import type { ApiContext } from './context.ts';

/**
 * The lifetime of a long response (an event stream, a followed log): its signal aborts when the
 * client goes away or the coordinator shuts down. Call `release` when the response ends.
 */
export function streamLifetime(request: FastifyRequest, ctx: ApiContext): { signal: AbortSignal; release(): void } {
  const abort = new AbortController();
  const stop = () => abort.abort();
  request.raw.on('close', stop);
  ctx.shutdown.addEventListener('abort', stop);
  return {
    signal: abort.signal,
    release() {
      request.raw.off('close', stop);
      ctx.shutdown.removeEventListener('abort', stop);
    },
  };
}
