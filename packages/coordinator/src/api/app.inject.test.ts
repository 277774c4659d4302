import { SWITCHYARD_VERSION } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator } from './inject-testing.ts';

/** A few operations of each part of the API (test/e2e/push-to-green.test.ts pins the whole list). */
const SOME_OPERATIONS = [
  'createPush',
  'cancelJob',
  'claimWork',
  'appendLog',
  'uploadArtifact',
  'uploadTool',
  'redeliver',
];

describe('without an auth: section', () => {
  const open = inProcessCoordinator();

  it('takes every request without a token', async () => {
    const response = await open.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      payload: { repo: 'app', branch: 'main', revision: 'abcdef0' },
    });
    expect(response.statusCode).toBe(201);
  });

  it('describes itself: version, no auth, pools and builders', async () => {
    const info = await open.inject({ url: '/api/v1/server' });
    expect(info.json()).toEqual({
      name: 'switchyard',
      version: SWITCHYARD_VERSION,
      auth: false,
      publicRead: true,
      pools: ['linux'],
      builders: [
        { name: 'build', repo: 'app', pool: 'linux' },
        { name: 'test', repo: 'app', pool: 'linux' },
        { name: 'site', repo: 'docs', pool: 'linux' },
      ],
    });
  });

  it('publishes an OpenAPI document naming every route and its error body', async () => {
    const document = (await open.inject({ url: '/api/openapi.json' })).json();
    expect(document.openapi).toBe('3.0.3');
    type Operation = { operationId?: string; responses: Record<string, unknown> };
    const operations = Object.values(document.paths as Record<string, Record<string, Operation>>).flatMap((methods) =>
      Object.values(methods),
    );
    const ids = operations.map((operation) => operation.operationId);
    expect(ids).toEqual(expect.arrayContaining(SOME_OPERATIONS));
    expect(new Set(ids).size).toBe(ids.length);
    // Every refusal an operation documents has the one error body.
    type Response = { content?: { 'application/json'?: { schema: { $ref?: string } } } };
    const bodyOf = (response: Response) => {
      const ref = response.content?.['application/json']?.schema.$ref ?? '';
      return document.components.schemas[ref.replace('#/components/schemas/', '')];
    };
    const refusals = operations.flatMap((operation) =>
      Object.entries(operation.responses as Record<string, Response>)
        .filter(([status]) => status.startsWith('4'))
        .map(([status, response]) => ({ where: `${operation.operationId} ${status}`, body: bodyOf(response) })),
    );
    expect(refusals.length).toBeGreaterThan(ids.length);
    for (const { where, body } of refusals) {
      expect(Object.keys(body?.properties?.error?.properties ?? {}), where).toEqual(['code', 'message', 'details']);
    }
    expect(document.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
  });

  it('names in the OpenAPI document what calling each operation needs', async () => {
    const document = (await open.inject({ url: '/api/openapi.json' })).json();
    type Operation = { operationId?: string; 'x-switchyard-auth'?: string };
    const operations: Operation[] = Object.values(document.paths as Record<string, Record<string, Operation>>).flatMap(
      (methods) => Object.values(methods),
    );
    const auth = new Map(operations.map((operation) => [operation.operationId, operation['x-switchyard-auth']]));
    expect(auth.get('createPush')).toBe('push');
    expect(auth.get('serverInfo')).toBe('read');
    expect(auth.get('claimWork')).toBe('worker');
    expect(auth.get('stepStarted')).toBe('attempt');
    expect(auth.get('signIn')).toBe('per-request');
    expect(operations.filter((operation) => operation['x-switchyard-auth'] === undefined)).toEqual([]);
  });

  it('exports Prometheus metrics with the jobs by state', async () => {
    await open.push();
    const metrics = await open.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/state="pending",pool="linux"/);
  });

  it('answers a route that does not exist with a JSON 404', async () => {
    const missing = expectError(await open.inject({ url: '/api/v1/nothing-here' }), 404, 'not-found');
    expect(missing.message).toContain('/api/v1/nothing-here');
  });

  it('refuses a body of another type: 415; one too large: 413', async () => {
    const text = await open.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      headers: { 'content-type': 'text/plain' },
      payload: 'repo=app',
    });
    expectError(text, 415, 'unsupported-media-type');
    const huge = await open.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      payload: { repo: 'app', branch: 'main', revision: 'abcdef0', message: 'x'.repeat(5 * 1024 * 1024) },
    });
    expectError(huge, 413, 'payload-too-large');
  });
});

describe('with public_read: false', () => {
  const closed = inProcessCoordinator(FARM_YAML + authSection(false));

  it('wants a token with the read scope to read: 401 without, 403 with another, 200 with it or admin', async () => {
    expectError(await closed.inject({ url: '/api/v1/pushes' }), 401, 'unauthenticated');
    const wrong = expectError(
      await closed.inject({ url: '/api/v1/pushes', headers: bearer('push') }),
      403,
      'forbidden',
    );
    expect(wrong.message).toMatch(/"read"/);
    expect((await closed.inject({ url: '/api/v1/pushes', headers: bearer('read') })).statusCode).toBe(200);
    expect((await closed.inject({ url: '/api/v1/pushes', headers: bearer('admin') })).statusCode).toBe(200);
  });

  it('refuses a malformed Authorization header: 401', async () => {
    const basic = { authorization: 'Basic dXNlcjpwYXNz' };
    expectError(await closed.inject({ url: '/api/v1/jobs', headers: basic }), 401, 'unauthenticated');
  });

  it('says auth is on, and reads are not public', async () => {
    expect((await closed.inject({ url: '/api/v1/server', headers: bearer('read') })).json()).toMatchObject({
      auth: true,
      publicRead: false,
    });
  });
});
