import { describe, expect, test } from 'vitest';
import { createPolicy, isFresh, isStorable, policyRequest, staleUsableOnError } from './cache-policy.ts';

const request = policyRequest('GET', '/file', {}, 'origin:80');
const authorized = policyRequest('GET', '/file', { authorization: 'Bearer t' }, 'origin:80');

function policy(cacheControl: string, req = request, status = 200) {
  const response = { status, headers: { 'cache-control': cacheControl, age: '120' } };
  return { policy: createPolicy(req, response), response };
}

describe('what is stored', () => {
  test('a public or max-age 200 is; no-store, private, Vary: * and non-200 are not', () => {
    for (const cc of ['max-age=60', 'public']) {
      const { policy: p, response } = policy(cc);
      expect(isStorable(p, response)).toBe(true);
    }
    for (const cc of ['no-store', 'private, max-age=60']) {
      const { policy: p, response } = policy(cc);
      expect(isStorable(p, response)).toBe(false);
    }
    const vary = { status: 200, headers: { 'cache-control': 'max-age=60', vary: '*' } };
    expect(isStorable(createPolicy(request, vary), vary)).toBe(false);
    const { policy: notFound, response } = policy('max-age=60', request, 404);
    expect(isStorable(notFound, response)).toBe(false);
  });

  test('an answer to a request with Authorization only when it says public (or s-maxage)', () => {
    const privateAnswer = policy('max-age=60', authorized);
    expect(isStorable(privateAnswer.policy, privateAnswer.response)).toBe(false);
    const publicAnswer = policy('public, max-age=60', authorized);
    expect(isStorable(publicAnswer.policy, publicAnswer.response)).toBe(true);
  });
});

describe('freshness', () => {
  test('follows max-age, except for content-addressed entries, fresh for ever', () => {
    expect(isFresh(policy('max-age=600').policy, request, false)).toBe(true);
    expect(isFresh(policy('max-age=60').policy, request, false)).toBe(false);
    expect(isFresh(policy('max-age=60').policy, request, true)).toBe(true);
  });
});

describe('stale on error', () => {
  test('allowed when the origin is unreachable, not for its 5xx answers', () => {
    const { policy: p } = policy('max-age=60');
    expect(staleUsableOnError(p, 'unreachable')).toBe(true);
    expect(staleUsableOnError(p, 'error-status')).toBe(false);
  });

  test('stale-if-error allows it for that long past expiry, for either failure', () => {
    expect(staleUsableOnError(policy('max-age=60, stale-if-error=600').policy, 'error-status')).toBe(true);
    expect(staleUsableOnError(policy('max-age=60, stale-if-error=10').policy, 'unreachable')).toBe(false);
  });

  test('must-revalidate, proxy-revalidate, no-cache and s-maxage forbid it', () => {
    for (const cc of ['max-age=60, must-revalidate', 'max-age=60, proxy-revalidate', 'no-cache', 's-maxage=60']) {
      expect(staleUsableOnError(policy(cc).policy, 'unreachable')).toBe(false);
    }
  });
});
