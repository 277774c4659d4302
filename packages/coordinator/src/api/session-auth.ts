import { ApiError, CSRF_HEADER, SESSION_COOKIE } from '@switchyard/protocol';
import type { FastifyRequest } from 'fastify';
import type { BrowserSession, Sessions } from './sessions.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Browsers say where a request comes from (Sec-Fetch-Site); a change asked for by another site
 * is refused whatever it carries. This covers farms without `auth:` too, whose loopback API a
 * page on any site could otherwise POST to. Programs (the CLI, workers, curl) send no such header.
 */
export function refuseCrossSite(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    throw new ApiError('forbidden', 'changes are not accepted from another site', { reason: 'cross-site' });
  }
}

/**
 * The browser session a request's cookie names, if it has no Authorization header (a bearer
 * token wins). A change made with a session must repeat the session's CSRF token in a header,
 * which a page on another origin cannot read, on top of the SameSite=Strict cookie.
 */
export async function sessionOf(request: FastifyRequest, sessions: Sessions): Promise<BrowserSession | undefined> {
  if (request.headers.authorization !== undefined) return undefined;
  const session = await sessions.find(request.cookies?.[SESSION_COOKIE]);
  if (session && !SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== session.csrfToken) {
    throw new ApiError('forbidden', `a signed-in change needs the session's ${CSRF_HEADER} header`, {
      reason: 'csrf',
    });
  }
  return session;
}
