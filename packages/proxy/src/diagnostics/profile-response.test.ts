import { createHash } from 'node:crypto';
import { ApiError } from '@switchyard/protocol';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { checkAdminToken, cpuProfileSeconds, profileFileName } from './profile-response.ts';
import { RouteLatency, statusClass } from './route-latency.ts';

function refusal(run: () => unknown): { status: number; code: string; message: string } | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
}

describe('a CPU profile request', () => {
  it('samples for 1 to 300 whole seconds, 30 when not told', () => {
    expect(cpuProfileSeconds(new URLSearchParams(''))).toBe(30);
    expect(cpuProfileSeconds(new URLSearchParams('seconds=1'))).toBe(1);
    expect(cpuProfileSeconds(new URLSearchParams('seconds=300'))).toBe(300);
  });

  it.each(['0', '301', '1.5', '1e2', '0x10', ' 5', '-1', '', 'abc', '99999'])('refuses seconds=%j with 400', (raw) => {
    const refused = refusal(() => cpuProfileSeconds(new URLSearchParams({ seconds: raw })));
    expect(refused).toMatchObject({ status: 400, code: 'invalid-request' });
    expect(refused?.message).toContain('from 1 to 300');
  });

  it('refuses parameters it does not know', () => {
    expect(refusal(() => cpuProfileSeconds(new URLSearchParams('second=5')))).toMatchObject({ status: 400 });
  });

  it('names the file for what it is and when it was taken', () => {
    const at = new Date('2025-03-01T10:15:00.123Z');
    expect(profileFileName('coordinator', 'cpu', at)).toBe('switchyard-coordinator-20250301T101500Z.cpuprofile');
    expect(profileFileName('proxy', 'heap', at)).toBe('switchyard-proxy-20250301T101500Z.heapsnapshot');
  });
});

describe('the admin token of the proxy and the signer', () => {
  const sha = createHash('sha256').update('the-admin-token').digest();

  it('lets the admin token through', () => {
    expect(refusal(() => checkAdminToken('Bearer the-admin-token', sha))).toBeNull();
  });

  it('asks for a token when none is sent, refuses any other, and refuses everyone when none is configured', () => {
    expect(refusal(() => checkAdminToken(undefined, sha))).toMatchObject({ status: 401 });
    expect(refusal(() => checkAdminToken('Bearer another', sha))).toMatchObject({ status: 403 });
    expect(refusal(() => checkAdminToken('Bearer the-admin-token', null))).toMatchObject({
      status: 403,
      message: expect.stringContaining('without an admin token'),
    });
  });
});

describe('route latencies', () => {
  it('keep long polls and streams apart, labelled by route pattern, method and status class', async () => {
    const registry = new Registry();
    const latency = new RouteLatency(registry, 'test_');
    latency.observe({ method: 'GET', route: '/api/v1/jobs/:id', status: 404, seconds: 0.002, longLived: false });
    latency.observe({ method: 'POST', route: '/claim', status: 200, seconds: 25, longLived: true });
    const text = await registry.metrics();
    expect(text).toContain(
      'test_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/:id",status_class="4xx"} 1',
    );
    expect(text).toContain(
      'test_http_long_request_duration_seconds_count{method="POST",route="/claim",status_class="2xx"} 1',
    );
    expect(text).not.toContain('test_http_request_duration_seconds_count{method="POST"');
  });

  it('class statuses by their hundreds', () => {
    expect([200, 204, 301, 409, 503, 0].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '5xx', 'other']);
  });
});
