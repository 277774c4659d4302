/**
 * @module
 * Job tokens: the short-lived credentials the coordinator gives one running attempt. There are
 * two audiences, one format:
 * - `attempt`: the attempt's own credential, sent to the coordinator for everything that acts on
 *   that attempt (its reports, log, artifact uploads) and for the reads it needs; signed with a
 *   key only the coordinators hold.
 * - `signer`: what the attempt shows the signing service, bound to the formats its builder may
 *   use; signed with a secret shared with the signer.
 *
 * `sy1.<claims>.<mac>`: the claims are base64url JSON, the mac is base64url HMAC-SHA256 over
 * `sy1.<claims>` with the secret named by the claims' `kid`. Stateless (Mozilla's signing server
 * lost its in-memory tokens on every restart), so any coordinator replica or signer checks one
 * without a lookup. Several secrets can be accepted at once, so one is rotated by adding the new
 * one, minting with it, then removing the old one.
 *
 * Neither a token nor a secret ever appears in an error message: errors say why, never what.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sy1';
const SECRET_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Who a token is for: a coordinator (the attempt's own credential) or a signing service. */
export type JobTokenAudience = 'attempt' | 'signer';

/** A shared secret, named so that a token says which one signed it. */
export interface TokenSecret {
  id: string;
  /** At least 32 bytes of randomness. */
  key: Buffer;
}

/** What a token grants. Times are unix seconds. */
export interface JobTokenClaims {
  /** The id of the secret that signed it. */
  kid: string;
  aud: JobTokenAudience;
  job: number;
  attempt: number;
  /** For the signer: the formats the attempt may ask for (`mar`, `gpg`, …); empty for `attempt`. */
  formats: string[];
  /** Issued at. */
  iat: number;
  /** Expires at: the token is refused from this second on. */
  exp: number;
}

export interface MintJobTokenOptions {
  secret: TokenSecret;
  audience: JobTokenAudience;
  job: number;
  attempt: number;
  formats?: readonly string[];
  ttlSeconds: number;
  /** Milliseconds since the epoch; the clock is injected for tests. */
  now?: number;
}

/** Why a token was refused, for the 401's message and the refusal metric. */
export type JobTokenRefusal =
  | 'malformed'
  | 'unknown-secret'
  | 'bad-signature'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid';

/** A token that can't be used. The message never quotes the token. */
export class JobTokenError extends Error {
  constructor(readonly reason: JobTokenRefusal) {
    super(REFUSAL_MESSAGES[reason]);
    this.name = 'JobTokenError';
  }
}

const REFUSAL_MESSAGES: Record<JobTokenRefusal, string> = {
  malformed: 'the token is not a Switchyard job token (sy1.<claims>.<mac>)',
  'unknown-secret': 'the token was made with a secret that is not accepted here (rotated out?)',
  'bad-signature': 'the token does not carry a valid signature',
  'wrong-audience': 'the token was made for another service',
  expired: 'the token has expired; the attempt it was made for is over or needs a new one',
  'not-yet-valid': 'the token is issued in the future; check the clocks of the coordinator and this service',
};

/** Clock differences between the coordinator and the service checking a token that are tolerated for `iat`. */
const ISSUED_SKEW_SECONDS = 60;

export function mintJobToken(options: MintJobTokenOptions): string {
  if (!SECRET_ID.test(options.secret.id)) {
    throw new Error(`secret id "${options.secret.id}" is not [A-Za-z0-9._-]{1,64}`);
  }
  if (!(options.ttlSeconds > 0)) throw new Error('a job token needs a positive lifetime');
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: JobTokenClaims = {
    kid: options.secret.id,
    aud: options.audience,
    job: options.job,
    attempt: options.attempt,
    formats: [...(options.formats ?? [])],
    iat,
    exp: iat + Math.ceil(options.ttlSeconds),
  };
  const signed = `${PREFIX}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${mac(options.secret.key, signed).toString('base64url')}`;
}

/**
 * The claims of a token for `audience`, signed by one of `secrets` and valid at `now`; throws
 * JobTokenError otherwise.
 */
export function verifyJobToken(
  token: string,
  secrets: readonly TokenSecret[],
  audience: JobTokenAudience,
  now = Date.now(),
): JobTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new JobTokenError('malformed');
  const [, encodedClaims = '', encodedMac = ''] = parts;
  const claims = parseClaims(encodedClaims);
  const secret = secrets.find((candidate) => candidate.id === claims.kid);
  if (!secret) throw new JobTokenError('unknown-secret');
  const expected = mac(secret.key, `${PREFIX}.${encodedClaims}`);
  const given = Buffer.from(encodedMac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JobTokenError('bad-signature');
  }
  if (claims.aud !== audience) throw new JobTokenError('wrong-audience');
  const seconds = Math.floor(now / 1000);
  if (seconds >= claims.exp) throw new JobTokenError('expired');
  if (claims.iat > seconds + ISSUED_SKEW_SECONDS) throw new JobTokenError('not-yet-valid');
  return claims;
}

/** Whether a bearer value has the shape of a job token (rather than a configured farm token). */
export function looksLikeJobToken(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function parseClaims(encoded: string): JobTokenClaims {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new JobTokenError('malformed');
  }
  const claims = value as Partial<JobTokenClaims> | null;
  const valid =
    claims !== null &&
    typeof claims === 'object' &&
    typeof claims.kid === 'string' &&
    (claims.aud === 'attempt' || claims.aud === 'signer') &&
    Number.isSafeInteger(claims.job) &&
    Number.isSafeInteger(claims.attempt) &&
    Array.isArray(claims.formats) &&
    claims.formats.every((format) => typeof format === 'string') &&
    Number.isSafeInteger(claims.iat) &&
    Number.isSafeInteger(claims.exp);
  if (!valid) throw new JobTokenError('malformed');
  return claims as JobTokenClaims;
}
