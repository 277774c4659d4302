import { ApiError, type Scope } from '@switchyard/protocol';
import type { FastifyRequest } from 'fastify';
import { type Farm, sha256Hex } from '../config/farm-config.ts';

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

/** Checks the request's bearer token against the scope its route needs. */
export async function authorize(farm: Farm, request: FastifyRequest): Promise<void> {
  const { scope, scopeFor } = request.routeOptions.config;
  const needed = scopeFor ? await scopeFor(request) : (scope ?? 'read');
  if (needed !== null) checkBearer(farm, needed, request.headers.authorization);
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
  const grant = tokens.get(sha256Hex(match[1] as string));
  if (!grant) throw new ApiError('unauthenticated', 'unknown token');
  if (!grant.scopes.has('admin') && !scopes.some((s) => grant.scopes.has(s))) {
    throw new ApiError('forbidden', `token "${grant.name}" lacks the ${wanted} scope`, {
      scopes: [...grant.scopes],
    });
  }
}
