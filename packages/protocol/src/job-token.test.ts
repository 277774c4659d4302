import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  JobTokenError,
  type MintJobTokenOptions,
  mintJobToken,
  type TokenSecret,
  verifyJobToken,
} from './job-token.ts';

const current: TokenSecret = { id: 'k2026b', key: randomBytes(32) };
const previous: TokenSecret = { id: 'k2026a', key: randomBytes(32) };
const now = Date.UTC(2026, 0, 1);

const mintSigningToken = (options: Omit<MintJobTokenOptions, 'audience'>) =>
  mintJobToken({ ...options, audience: 'signer' });
const verifySigningToken = (token: string, secrets: TokenSecret[], at: number) =>
  verifyJobToken(token, secrets, 'signer', at);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JobTokenError);
    return (error as JobTokenError).reason;
  }
  throw new Error('expected the token to be refused');
}

describe('job tokens', () => {
  it('carry the job, the attempt and the formats to a signer that holds the secret', () => {
    const token = mintSigningToken({ secret: current, job: 7, attempt: 2, formats: ['mar'], ttlSeconds: 600, now });
    expect(verifySigningToken(token, [previous, current], now + 1000)).toEqual({
      kid: 'k2026b',
      aud: 'signer',
      job: 7,
      attempt: 2,
      formats: ['mar'],
      iat: now / 1000,
      exp: now / 1000 + 600,
    });
  });

  it('are accepted under any configured secret, so a secret can be rotated', () => {
    const old = mintSigningToken({ secret: previous, job: 1, attempt: 1, formats: ['gpg'], ttlSeconds: 60, now });
    expect(verifySigningToken(old, [previous, current], now).job).toBe(1);
    expect(refusal(() => verifySigningToken(old, [current], now))).toBe('unknown-secret');
  });

  it('are refused once expired, when altered, or when not tokens at all; the message never quotes them', () => {
    const token = mintSigningToken({ secret: current, job: 7, attempt: 2, formats: ['mar'], ttlSeconds: 60, now });
    expect(refusal(() => verifySigningToken(token, [current], now + 60_000))).toBe('expired');
    const [prefix, claims, mac] = token.split('.') as [string, string, string];
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), formats: ['mar', 'gpg'] }),
    ).toString('base64url');
    expect(refusal(() => verifySigningToken(`${prefix}.${widened}.${mac}`, [current], now))).toBe('bad-signature');
    expect(refusal(() => verifySigningToken('Bearer nonsense', [current], now))).toBe('malformed');
    expect(refusal(() => verifySigningToken(`sy1.${claims}.`, [current], now))).toBe('bad-signature');
    try {
      verifySigningToken(token, [current], now + 3_600_000);
    } catch (error) {
      expect((error as Error).message).not.toContain(mac);
      expect((error as Error).message).not.toContain(claims);
    }
  });

  it('issued in the future beyond clock skew are refused', () => {
    const token = mintSigningToken({
      secret: current,
      job: 1,
      attempt: 1,
      formats: [],
      ttlSeconds: 600,
      now: now + 300_000,
    });
    expect(refusal(() => verifySigningToken(token, [current], now))).toBe('not-yet-valid');
  });

  it('made for one audience are refused by the other: an attempt credential never signs, a signing token never reports', () => {
    const signing = mintSigningToken({ secret: current, job: 7, attempt: 2, formats: ['mar'], ttlSeconds: 60, now });
    expect(refusal(() => verifyJobToken(signing, [current], 'attempt', now))).toBe('wrong-audience');
    const attempt = mintJobToken({ secret: current, audience: 'attempt', job: 7, attempt: 2, ttlSeconds: 60, now });
    expect(verifyJobToken(attempt, [current], 'attempt', now)).toMatchObject({ aud: 'attempt', formats: [] });
    expect(refusal(() => verifySigningToken(attempt, [current], now))).toBe('wrong-audience');
  });
});
