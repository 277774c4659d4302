import { ApiError, type JobTokenClaims, JobTokenError, looksLikeJobToken, type Scope } from '@switchyard/protocol';
import type { FastifyContextConfig, FastifyRequest } from 'fastify';
import { type Farm, sha256Hex, type TokenGrant } from '../config/farm-config.ts';
import type { AttemptCredentials } from '../credentials/attempt-credentials.ts';
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
    /**
     * The route acts on one attempt, so only that attempt's own credential (the claim's
     * `attemptToken`) may call it, with or without `auth:`: `attempt` when `:id` is the attempt,
     * `job` when it is the attempt's job. No farm token will do, a worker's included.
     */
    actsOn?: 'attempt' | 'job';
  }
  interface FastifyRequest {
    /** On a route that acts on an attempt: what its credential says. */
    attemptClaims?: JobTokenClaims;
    /** The name of the farm token the request was authorized by; null without `auth:` or for a browser session. */
    credentialName?: string | null;
  }
}

/**
 * What a route needs, in the OpenAPI document's `x-switchyard-auth`: a scope (or several, any of
 * which will do), `attempt` for the attempt's own credential, or `per-request` when the route
 * decides from what is asked for. The same rule `authorize` applies, so the document can't drift.
 */
export function accessOf(config: Pick<FastifyContextConfig, 'scope' | 'scopeFor' | 'actsOn'>): string {
  if (config.actsOn) return 'attempt';
  if (config.scopeFor) return 'per-request';
  return [config.scope ?? 'read'].flat().join(' or ');
}

/**
 * Checks the request's credential against what its route needs: the attempt's own credential on
 * a route that acts on an attempt; else a farm token's scope (from the bearer or the browser's
 * session). An attempt credential also reads, as its job's dependency fetches and tools need.
 */
export async function authorize(
  farm: Farm,
  request: FastifyRequest,
  sessions: Sessions,
  credentials: AttemptCredentials,
): Promise<void> {
  refuseCrossSite(request);
  const { scope, scopeFor, actsOn } = request.routeOptions.config;
  if (actsOn) {
    const id = (request.params as { id?: string } | undefined)?.id;
    request.attemptClaims = checkAttemptCredential(credentials, actsOn, id, request.headers.authorization);
    return;
  }
  const needed = scopeFor ? await scopeFor(request) : (scope ?? 'read');
  if (needed === null) return;
  const session = await sessionOf(request, sessions);
  if (session) {
    checkGrant(farm, needed, session.tokenHash);
    return;
  }
  request.credentialName = checkBearer(farm, needed, request.headers.authorization, credentials);
}

/**
 * An attempt's own credential, for a request acting on `id` (the attempt, or its job). Checked
 * whether or not the farm has `auth:`, because the claim always hands one out.
 */
export function checkAttemptCredential(
  credentials: AttemptCredentials,
  actsOn: 'attempt' | 'job',
  id: string | undefined,
  header: string | undefined,
): JobTokenClaims {
  const bearer = bearerOf(header);
  if (bearer === null || !looksLikeJobToken(bearer)) {
    throw new ApiError(
      'unauthenticated',
      `this endpoint acts on one attempt: send that attempt's own credential (the claim's attemptToken) as Authorization: Bearer …`,
    );
  }
  const claims = verifyAttemptToken(credentials, bearer);
  const own = String(actsOn === 'attempt' ? claims.attempt : claims.job);
  if (id !== own) {
    throw new ApiError(
      'forbidden',
      `this credential belongs to attempt ${claims.attempt} of job ${claims.job} and acts on that attempt only`,
    );
  }
  return claims;
}

/**
 * The same check on a bare Authorization header, for requests answered before routing (Expect:
 * 100-continue). Returns the farm token's name, null when none was needed or checked.
 */
export function checkBearer(
  farm: Farm,
  needed: Scope | Scope[],
  header: string | undefined,
  credentials: AttemptCredentials,
): string | null {
  const tokens = farm.tokens;
  if (tokens === null) return null;
  const scopes = Array.isArray(needed) ? needed : [needed];
  if (scopes.includes('read') && farm.publicRead) return null;
  const wanted = scopes.map((s) => `"${s}"`).join(' or ');
  const bearer = bearerOf(header);
  if (bearer === null) {
    throw new ApiError(
      'unauthenticated',
      `this endpoint needs a token with the ${wanted} scope (Authorization: Bearer …)`,
    );
  }
  if (looksLikeJobToken(bearer)) {
    if (!scopes.includes('read')) {
      throw new ApiError('forbidden', `an attempt's credential acts on its attempt and reads; this needs ${wanted}`);
    }
    verifyAttemptToken(credentials, bearer);
    return null;
  }
  return checkGrant(farm, needed, sha256Hex(bearer)).name;
}

/** Checks that a token (by its sha256) has one of the scopes needed in the config in force; returns its grant. */
export function checkGrant(farm: Farm, needed: Scope | Scope[], tokenHash: string): TokenGrant {
  const tokens = farm.tokens;
  if (tokens === null) return ANY_GRANT;
  const scopes = Array.isArray(needed) ? needed : [needed];
  if (scopes.includes('read') && farm.publicRead) return ANY_GRANT;
  const wanted = scopes.map((s) => `"${s}"`).join(' or ');
  const grant = tokens.get(tokenHash);
  if (!grant) throw new ApiError('unauthenticated', 'unknown token');
  if (!grant.scopes.has('admin') && !scopes.some((s) => grant.scopes.has(s))) {
    throw new ApiError('forbidden', `token "${grant.name}" lacks the ${wanted} scope`, {
      scopes: [...grant.scopes],
    });
  }
  return grant;
}

function verifyAttemptToken(credentials: AttemptCredentials, bearer: string): JobTokenClaims {
  try {
    return credentials.verify(bearer);
  } catch (error) {
    if (error instanceof JobTokenError) throw new ApiError('unauthenticated', error.message, { reason: error.reason });
    throw error;
  }
}

/** What a request may do when nothing is checked: without `auth:`, or a public read. */
const ANY_GRANT: TokenGrant = { name: '', scopes: new Set() };

function bearerOf(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? (match[1] as string) : null;
}
