import { ApiError, SCOPES, SESSION_COOKIE, Session, SignInRequest } from '@switchyard/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Farm } from '../../config/farm-config.ts';
import { sha256Hex } from '../../config/farm-config.ts';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { sessionOf } from '../session-auth.ts';
import { type BrowserSession, SESSION_LIFETIME_MS } from '../sessions.ts';

/** Sign-in for browsers: a token in, an HttpOnly SameSite=Strict cookie naming a session out. */
export function registerSessionRoutes(app: App, ctx: ApiContext): void {
  const view = (session: BrowserSession | undefined): Session => sessionView(ctx.farm(), session);

  app.get(
    '/api/v1/session',
    {
      config: { scopeFor: async () => null },
      schema: {
        operationId: 'getSession',
        tags: ['session'],
        summary: "The browser's session: signed in or not, as whom, with which scopes, and its CSRF token",
        response: { 200: Session },
      },
    },
    async (request) => view(await sessionOf(request, ctx.sessions)),
  );

  app.post(
    '/api/v1/session',
    {
      config: { scopeFor: async () => null },
      schema: {
        operationId: 'signIn',
        tags: ['session'],
        summary: 'Sign a browser in with an API token: sets the session cookie',
        body: SignInRequest,
        response: { 200: Session, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const farm = ctx.farm();
      if (farm.tokens === null)
        throw new ApiError('conflict', 'this farm has no auth: section; there is nothing to sign in to');
      const tokenHash = sha256Hex(request.body.token);
      const grant = farm.tokens.get(tokenHash);
      if (!grant) throw new ApiError('unauthenticated', 'unknown token');
      await ctx.sessions.end(request.cookies[SESSION_COOKIE]);
      const session = await ctx.sessions.start(tokenHash, grant.name);
      setSessionCookie(request, reply, session.id, SESSION_LIFETIME_MS / 1000);
      return view(session);
    },
  );

  app.delete(
    '/api/v1/session',
    {
      config: { scopeFor: async () => null },
      schema: {
        operationId: 'signOut',
        tags: ['session'],
        summary: 'Sign the browser out: its session ends on the server and its cookie is cleared',
        response: { 200: Session, ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      await ctx.sessions.end((await sessionOf(request, ctx.sessions))?.id);
      setSessionCookie(request, reply, '', 0);
      return view(undefined);
    },
  );
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  });
}

function sessionView(farm: Farm, session: BrowserSession | undefined): Session {
  const auth = farm.tokens !== null;
  const grant = session ? farm.tokens?.get(session.tokenHash) : undefined;
  const scopes = !auth
    ? [...SCOPES]
    : grant
      ? grant.scopes.has('admin')
        ? [...SCOPES]
        : [...grant.scopes]
      : farm.publicRead
        ? ['read']
        : [];
  return {
    auth,
    publicRead: farm.publicRead,
    signedIn: grant !== undefined,
    name: grant?.name ?? null,
    scopes,
    csrfToken: grant && session ? session.csrfToken : null,
  };
}
