import { ApiError, type Scope } from '@switchyard/protocol';
import type { FastifyRequest } from 'fastify';
import { type Farm, sha256Hex } from '../config/farm-config.ts';
import { refuseCrossSite, sessionOf } from './session-auth.ts';
import type { Sessions } from './sessions.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The scope a route needs, or several of which any one will do (workers read artifacts with
     * their `worker` token); reads use `read`, which `public_read` may waive.
     */
    scope?: Scope | Scope[];
    /**
     * For a route whose scope depends on what is asked for (a public tool needs none, an
     * internal one the read rule): decides per request, in place of `scope`. null: anyone may.
     */
    scopeFor?: (request: FastifyRequest) => Promise<Scope | Scope[] | null>;
  }
}

/** Checks the request's bearer token, or its browser session, against the scope its route needs. */
export async function authorize(farm: Farm, request: FastifyRequest, sessions: Sessions): Promise<void> {
  refuseCrossSite(request);
  const session = await sessionOf(request, sessions);
  const { scope, scopeFor } = request.routeOptions.config;
  const needed = scopeFor ? await scopeFor(request) : (scope ?? 'read');
  if (needed === null) return;
  if (session) checkGrant(farm, needed, session.tokenHash);
  else checkBearer(farm, needed, request.headers.authorization);
}

/** The same check on a bare Authorization header, for requests answered before routing (Expect: 100-continue). */
export function checkBearer(farm: Farm, needed: Scope | Scope[], header: string | undefined): void {
  const tokens = farm.tokens;
  if (tokens === null) return;
  const scopes = Array.isArray(needed) ? needed : [needed];
  if (scopes.includes('read') && farm.publicRead) return;
  const wanted = scopes.map((s) => `"${s}"`).join(' or ');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) {
    throw new ApiError(
      'unauthenticated',
      `this endpoint needs a token with the ${wanted} scope (Authorization: Bearer …)`,
    );
  }
  checkGrant(farm, needed, sha256Hex(match[1] as string));
}

/** Checks that a token (by its sha256) has one of the scopes needed in the config in force. */
export function checkGrant(farm: Farm, needed: Scope | Scope[], tokenHash: string): void {
  const tokens = farm.tokens;
  if (tokens === null) return;
  const scopes = Array.isArray(needed) ? needed : [needed];
  if (scopes.includes('read') && farm.publicRead) return;
  const wanted = scopes.map((s) => `"${s}"`).join(' or ');
  const grant = tokens.get(tokenHash);
  if (!grant) throw new ApiError('unauthenticated', 'unknown token');
  if (!grant.scopes.has('admin') && !scopes.some((s) => grant.scopes.has(s))) {
    throw new ApiError('forbidden', `token "${grant.name}" lacks the ${wanted} scope`, {
      scopes: [...grant.scopes],
    });
  }
}
