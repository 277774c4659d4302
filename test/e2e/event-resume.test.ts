import type { SwitchyardEvent } from '@switchyard/protocol';
import { parseSse } from '@switchyard/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { waitUntil } from '../helpers/pids.ts';
import { freePort, killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: build, repo: demo, pool: linux, checkout: false, steps: [{ name: b, run: "echo building; sleep 0.2" }] }
  - { name: test, repo: demo, pool: linux, after: build, checkout: false, steps: [{ name: t, run: "echo testing" }] }
  - { name: docs, repo: demo, pool: linux, branches: [main], checkout: false, steps: [{ name: d, run: "true" }] }
`;

async function readRawStream(url: string, headers: Record<string, string>, count: number): Promise<SwitchyardEvent[]> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: SwitchyardEvent[] = [];
  for await (const message of parseSse(response.body as AsyncIterable<Uint8Array>)) {
    if (message.event === 'ready') {
      expect(JSON.parse(message.data)).toEqual({ cursor: expect.any(Number) });
      continue;
    }
    const event = JSON.parse(message.data) as SwitchyardEvent;
    expect(message.id).toBe(String(event.id));
    expect(message.event).toBe(event.type);
    events.push(event);
    if (events.length === count) break;
  }
  abort.abort();
  return events;
}

describe.each(DATABASES)('the event stream (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  let port: number;
  let server: TestServer;

  afterAll(async () => {
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  it('resumes across a coordinator restart with no gap and no repeat', async () => {
    farm.writeConfig(CONFIG);
    port = await freePort();
    const database = await databases.fresh();
    server = await startServer({ config: farm.config, data: farm.data, database, port });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const revision = farm.commit('main', { 'a.txt': 'a\n' });

    // One consumer reads through the restart; its client reconnects with the last id it saw.
    const received: SwitchyardEvent[] = [];
    const abort = new AbortController();
    const consuming = (async () => {
      for await (const event of server.client.events({ since: 0, signal: abort.signal })) received.push(event);
    })();

    const first = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    await waitForPushFinal(server.client, first.id);
    await server.kill('SIGTERM');
    const seenBeforeRestart = received.length;
    expect(seenBeforeRestart).toBeGreaterThan(0);

    server = await startServer({ config: farm.config, data: farm.data, database, port });
    const second = await server.client.createPush({ repo: 'demo', branch: 'release/1', revision });
    await waitForPushFinal(server.client, second.id);
    const secondJobs = new Set(second.jobs.map((j) => j.id));
    const all = await collectEvents(
      server.client,
      (seen) =>
        seen.filter((e) => e.type === 'job.finished' && secondJobs.has((e.data as { job: { id: number } }).job.id))
          .length === secondJobs.size,
    );
    const lastId = all.at(-1)?.id as number;
    await waitUntil(() => received.some((e) => e.id === lastId), 15_000, `the consumer to reach event ${lastId}`);
    abort.abort();
    await consuming;

    const upTo = received.filter((e) => e.id <= lastId);
    expect(upTo.length).toBeGreaterThan(seenBeforeRestart);
    expect(upTo.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(upTo).toEqual(all);
    expect(received.filter((e) => e.type === 'push.created')).toHaveLength(2);
  });

  it('resumes after Last-Event-ID, and ?since= does the same', async () => {
    const all = await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'push.created' && e.id > 1));
    const pivot = all[4] as SwitchyardEvent;
    const viaHeader = await readRawStream(`${server.url}/api/v1/events`, { 'last-event-id': String(pivot.id) }, 3);
    expect(viaHeader.map((e) => e.id)).toEqual(all.slice(5, 8).map((e) => e.id));
    const viaQuery = await readRawStream(`${server.url}/api/v1/events?since=${pivot.id}`, {}, 3);
    expect(viaQuery).toEqual(viaHeader);
  });

  it('filters by type and branch', async () => {
    const events = await collectEvents(server.client, (seen) => seen.length === 2, {
      types: ['job.finished'],
      branch: 'release/1',
    });
    expect(events.map((e) => [e.type, (e.data as { job: { builder: string; branch: string } }).job.builder])).toEqual([
      ['job.finished', 'build'],
      ['job.finished', 'test'],
    ]);
    const pushes = await collectEvents(server.client, (seen) => seen.length === 2, { types: ['push.created'] });
    expect(pushes.map((e) => (e.data as { push: { branch: string } }).push.branch)).toEqual(['main', 'release/1']);
  });

  it('refuses unknown event types and a malformed Last-Event-ID with 400', async () => {
    const badType = await fetch(`${server.url}/api/v1/events?types=job.exploded`);
    expect(badType.status).toBe(400);
    expect(await badType.json()).toMatchObject({
      error: { code: 'invalid-request', message: 'unknown event type "job.exploded"' },
    });
    const badId = await fetch(`${server.url}/api/v1/events`, { headers: { 'last-event-id': 'yesterday' } });
    expect(badId.status).toBe(400);
  });
});
