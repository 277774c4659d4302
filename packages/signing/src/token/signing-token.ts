/**
 * @module
 * The signing token: what the coordinator gives a running attempt so that it may ask the signer
 * for signatures, and what the signer checks from the request's headers before any body.
 *
 * `sy1.<claims>.<mac>`: the claims are base64url JSON, the mac is base64url HMAC-SHA256 over
 * `sy1.<claims>` with the secret named by the claims' `kid`. Stateless (Mozilla's signing server
 * lost its in-memory tokens on every restart), bound to a job, an attempt and the formats the
 * builder may use, and short-lived. Several secrets can be accepted at once, so one is rotated by
 * adding the new one to the signer, minting with it, then removing the old one.
 *
 * Neither a token nor a secret ever appears in an error message: errors say why, never what.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sy1';
const SECRET_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A shared secret, named so that a token says which one signed it. */
export interface TokenSecret {
  id: string;
  /** At least 32 bytes of randomness. */
  key: Buffer;
}

/** What a token grants. Times are unix seconds. */
export interface SigningClaims {
  /** The id of the secret that signed it. */
  kid: string;
  job: number;
  attempt: number;
  /** The formats the attempt may ask for (`mar`, `gpg`, …). */
  formats: string[];
  /** Issued at. */
  iat: number;
  /** Expires at: the token is refused from this second on. */
  exp: number;
}

export interface MintOptions {
  secret: TokenSecret;
  job: number;
  attempt: number;
  formats: string[];
  /** How long it lasts; the coordinator uses the attempt's lease. */
  ttlSeconds: number;
  /** Milliseconds since the epoch; the clock is injected for tests. */
  now?: number;
}

/** Why a token was refused, for the 401's message and the refusal metric. */
export type TokenRefusal = 'malformed' | 'unknown-secret' | 'bad-signature' | 'expired' | 'not-yet-valid';

/** A token that can't be used. The message never quotes the token. */
export class SigningTokenError extends Error {
  constructor(readonly reason: TokenRefusal) {
    super(REFUSAL_MESSAGES[reason]);
    this.name = 'SigningTokenError';
  }
}

const REFUSAL_MESSAGES: Record<TokenRefusal, string> = {
  malformed: 'the signing token is not a Switchyard signing token (sy1.<claims>.<mac>)',
  'unknown-secret': 'the signing token was made with a secret this signer does not accept (rotated out?)',
  'bad-signature': 'the signing token does not carry a valid signature',
  expired: 'the signing token has expired; the attempt it was made for is over or needs a new one',
  'not-yet-valid': 'the signing token is issued in the future; check the clocks of the coordinator and the signer',
};

/** Clock differences between the coordinator and the signer that are tolerated for `iat`. */
const ISSUED_SKEW_SECONDS = 60;

export function mintSigningToken(options: MintOptions): string {
  if (!SECRET_ID.test(options.secret.id))
    throw new Error(`secret id "${options.secret.id}" is not [A-Za-z0-9._-]{1,64}`);
  if (!(options.ttlSeconds > 0)) throw new Error('a signing token needs a positive lifetime');
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: SigningClaims = {
    kid: options.secret.id,
    job: options.job,
    attempt: options.attempt,
    formats: [...options.formats],
    iat,
    exp: iat + Math.ceil(options.ttlSeconds),
  };
  const signed = `${PREFIX}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${mac(options.secret.key, signed).toString('base64url')}`;
}

/** The claims of a token signed by one of `secrets` and valid at `now`; throws SigningTokenError otherwise. */
export function verifySigningToken(token: string, secrets: readonly TokenSecret[], now = Date.now()): SigningClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new SigningTokenError('malformed');
  const [, encodedClaims = '', encodedMac = ''] = parts;
  const claims = parseClaims(encodedClaims);
  const secret = secrets.find((candidate) => candidate.id === claims.kid);
  if (!secret) throw new SigningTokenError('unknown-secret');
  const expected = mac(secret.key, `${PREFIX}.${encodedClaims}`);
  const given = Buffer.from(encodedMac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SigningTokenError('bad-signature');
  }
  const seconds = Math.floor(now / 1000);
  if (seconds >= claims.exp) throw new SigningTokenError('expired');
  if (claims.iat > seconds + ISSUED_SKEW_SECONDS) throw new SigningTokenError('not-yet-valid');
  return claims;
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function parseClaims(encoded: string): SigningClaims {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new SigningTokenError('malformed');
  }
  const claims = value as Partial<SigningClaims> | null;
  const valid =
    claims !== null &&
    typeof claims === 'object' &&
    typeof claims.kid === 'string' &&
    Number.isSafeInteger(claims.job) &&
    Number.isSafeInteger(claims.attempt) &&
    Array.isArray(claims.formats) &&
    claims.formats.every((format) => typeof format === 'string') &&
    Number.isSafeInteger(claims.iat) &&
    Number.isSafeInteger(claims.exp);
  if (!valid) throw new SigningTokenError('malformed');
  return claims as SigningClaims;
}
