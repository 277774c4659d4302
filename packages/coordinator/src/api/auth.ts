import { ApiError, type Scope } from '@switchyard/protocol';
import type { FastifyRequest } from 'fastify';
import { type Farm, sha256Hex } from '../config/farm-config.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; reads use `read`, which `public_read` may waive. */
    scope?: Scope;
  }
}

/** Checks the request's bearer token against the scope its route needs. */
export function authorize(farm: Farm, request: FastifyRequest): void {
  const tokens = farm.tokens;
  if (tokens === null) return;
  const scope = request.routeOptions.config.scope ?? 'read';
  if (scope === 'read' && farm.publicRead) return;
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) {
    throw new ApiError(
      'unauthenticated',
      `this endpoint needs a token with the "${scope}" scope (Authorization: Bearer …)`,
    );
  }
  const grant = tokens.get(sha256Hex(match[1] as string));
  if (!grant) throw new ApiError('unauthenticated', 'unknown token');
  if (!grant.scopes.has(scope) && !grant.scopes.has('admin')) {
    throw new ApiError('forbidden', `token "${grant.name}" lacks the "${scope}" scope`, {
      scopes: [...grant.scopes],
    });
  }
}
