import { CSRF_HEADER, SESSION_COOKIE, type Session } from '@switchyard/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { TestFarm } from '../helpers/farm.ts';
import { freePort, killAll, startServer } from '../helpers/processes.ts';

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
auth:
  public_read: false
  tokens:
    - { name: ops, env: T_OPS, scopes: [read, cancel] }
builders: []
`;
const ENV = { T_OPS: 'ops-secret' };

describe.each(DATABASES)('a browser session across a coordinator restart (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  afterAll(async () => {
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  it('stays signed in when the coordinator restarts, until it signs out', async () => {
    farm.writeConfig(CONFIG);
    const port = await freePort();
    const database = await databases.fresh();
    let server = await startServer({ config: farm.config, data: farm.data, database, port, env: ENV });
    const signIn = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ENV.T_OPS }),
    });
    expect(signIn.status).toBe(200);
    const cookie = new RegExp(`^${SESSION_COOKIE}=([^;]+)`).exec(signIn.headers.get('set-cookie') ?? '')?.[1];
    expect(cookie).toBeDefined();
    const signedIn = (await signIn.json()) as Session;
    const asBrowser = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}${path}`, {
        ...init,
        headers: { cookie: `${SESSION_COOKIE}=${cookie}`, [CSRF_HEADER]: signedIn.csrfToken ?? '' },
      });

    await server.kill('SIGTERM');
    server = await startServer({ config: farm.config, data: farm.data, database, port, env: ENV });
    const session = (await (await asBrowser('/api/v1/session')).json()) as Session;
    expect(session).toMatchObject({ signedIn: true, name: 'ops', csrfToken: signedIn.csrfToken });
    expect((await asBrowser('/api/v1/pushes')).status).toBe(200);

    expect((await asBrowser('/api/v1/session', { method: 'DELETE' })).status).toBe(200);
    expect(((await (await asBrowser('/api/v1/session')).json()) as Session).signedIn).toBe(false);
    expect((await asBrowser('/api/v1/pushes')).status).toBe(401);
    // Ended in the store, not in one process's memory.
    await server.kill('SIGTERM');
    server = await startServer({ config: farm.config, data: farm.data, database, port, env: ENV });
    expect((await asBrowser('/api/v1/pushes')).status).toBe(401);
  });
});
