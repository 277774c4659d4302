import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { TestFarm } from '../helpers/farm.ts';
import { waitUntil } from '../helpers/pids.ts';
import { freePort, killAll, startServer, type TestServer } from '../helpers/processes.ts';

/** 20 builders ready at once and 20 after them: a push commits 41 events (push.created, 20 job.pending, 20 job.waiting). */
const READY = 20;
const EVENTS_PER_PUSH = 1 + 2 * READY;
const CONFIG = `
repos: [{ name: demo, url: $REPO }]
builders:
${Array.from({ length: READY }, (_, i) =>
  [
    `  - { name: build-${i}, repo: demo, pool: linux, checkout: false, steps: [{ name: b, run: "true" }] }`,
    `  - { name: test-${i}, repo: demo, pool: linux, after: build-${i}, checkout: false, steps: [{ name: t, run: "true" }] }`,
  ].join('\n'),
).join('\n')}
`;
/**
 * About 4,000 events, eight batches of the store; with a big change's message and file list in
 * each push.created, about 10 MB: more than the socket buffers of a consumer that stops reading
 * take (about 4 MB on Linux loopback), so the coordinator must hold the rest for it, or not.
 */
const HISTORY_PUSHES = 97;
const MESSAGE = 'Bug 1 - a change with a long description. '.repeat(500);
const FILES = Array.from({ length: 1500 }, (_, i) => `toolkit/components/module-${i % 40}/file-${i}.cpp`);
const BATCH_IDS = 500;

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.split(' ')[1]);
}

/** An SSE consumer that keeps the ids it was sent; `pause` stops reading its socket. */
interface Reader {
  ids: number[];
  response: Promise<IncomingMessage>;
  close(): void;
}

function openReader(url: string, options: { paused?: boolean } = {}): Reader {
  const reader: Reader = { ids: [], response: Promise.resolve(undefined as never), close: () => {} };
  const req = request(url, { agent: false, headers: { accept: 'text/event-stream' } });
  reader.response = new Promise((resolve, reject) => {
    req.on('response', (response) => {
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (message.startsWith('id: ')) reader.ids.push(Number(message.slice(4, message.indexOf('\n'))));
        }
      });
      // Paused, the client reads no further than its own buffer; the rest waits in the coordinator.
      if (options.paused) response.pause();
      resolve(response);
    });
    req.on('error', reject);
  });
  req.end();
  reader.close = () => req.destroy();
  return reader;
}

function upTo(last: number): number[] {
  return Array.from({ length: last }, (_, i) => i + 1);
}

describe.each(DATABASES)('replaying the event history (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  let database: string | undefined;
  let port: number;
  let server: TestServer;
  let revision: string;
  let pushes = 0;

  async function push(): Promise<number> {
    pushes += 1;
    const created = await server.client.createPush({
      repo: 'demo',
      branch: `b${pushes % 7}`,
      revision,
      message: MESSAGE,
      files: FILES,
    });
    return created.id;
  }

  /** A coordinator started afresh on the same database: its memory ring is empty, the history all in the store. */
  async function restart(): Promise<void> {
    await server.kill('SIGTERM');
    server = await startServer({ config: farm.config, data: farm.data, database, port });
  }

  beforeAll(async () => {
    farm.writeConfig(CONFIG);
    revision = farm.commit('main', { 'a.txt': 'a\n' });
    port = await freePort();
    database = await databases.fresh();
    server = await startServer({ config: farm.config, data: farm.data, database, port });
    for (let i = 0; i < HISTORY_PUSHES; i++) await push();
  });

  afterAll(async () => {
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  it('replays from since=0 to many readers, every event once and in order, from one store read per batch, while the API answers', async () => {
    await restart();
    const last = HISTORY_PUSHES * EVENTS_PER_PUSH;
    const readers = Array.from({ length: 10 }, () => openReader(`${server.url}/api/v1/events?since=0`));
    await waitUntil(() => readers.every((r) => r.ids.length > 0), 30_000, 'every reader to get its first event');

    const answer = await fetch(`${server.url}/api/v1/pushes/1`);
    const receivedWhenAnswered = readers.reduce((sum, r) => sum + r.ids.length, 0);
    expect(answer.status).toBe(200);
    expect(receivedWhenAnswered).toBeLessThan(readers.length * last);

    await waitUntil(() => readers.every((r) => r.ids.length >= last), 60_000, 'every reader to reach the end');
    for (const reader of readers) {
      expect(reader.ids).toEqual(upTo(last));
      reader.close();
    }
    // The history fits the cache: each batch is read once for all ten readers.
    expect(await metric(server, 'switchyard_event_history_reads_total')).toBe(Math.ceil(last / BATCH_IDS));
  });

  it('holds one page for a consumer that stops reading, not the history it is behind', async () => {
    await restart();
    const last = HISTORY_PUSHES * EVENTS_PER_PUSH;
    const readers = Array.from({ length: 3 }, () =>
      openReader(`${server.url}/api/v1/events?since=0`, { paused: true }),
    );
    await waitForMetric(server, 'switchyard_event_stream_pages_unsent', (n) => n === readers.length);
    // Each stalled consumer holds the one page it was sent; the coordinator read no further for it.
    expect(readers.every((r) => r.ids.length < last)).toBe(true);
    const reads = await metric(server, 'switchyard_event_history_reads_total');
    expect(reads).toBeLessThan(Math.ceil(last / BATCH_IDS));
    expect(await metric(server, 'switchyard_event_history_batches_cached')).toBeLessThanOrEqual(reads);
    expect((await fetch(`${server.url}/api/v1/pushes/1`)).status).toBe(200);
    expect(await metric(server, 'switchyard_event_stream_pages_unsent')).toBe(readers.length);
    expect(await metric(server, 'switchyard_event_history_reads_total')).toBe(reads);

    // Once they read again, they get the rest: every event once, in order.
    for (const reader of readers) (await reader.response).resume();
    await waitUntil(() => readers.every((r) => r.ids.length >= last), 60_000, 'the consumers to reach the end');
    for (const reader of readers) {
      expect(reader.ids).toEqual(upTo(last));
      reader.close();
    }
    await waitForMetric(server, 'switchyard_event_stream_pages_unsent', (n) => n === 0);
  });

  it('passes from replaying history to live events with nothing lost and nothing twice', async () => {
    await restart();
    const reader = openReader(`${server.url}/api/v1/events?since=0`);
    // Pushes go on while the reader replays, until it has caught up with some of them, then a few more.
    const made: number[] = [];
    const seenPushes = () => Math.floor(reader.ids.length / EVENTS_PER_PUSH);
    while (seenPushes() < HISTORY_PUSHES + 3) made.push(await push());
    for (let i = 0; i < 5; i++) made.push(await push());
    const last = pushes * EVENTS_PER_PUSH;
    await waitUntil(() => reader.ids.length >= last, 60_000, 'the reader to get every event');
    // Give a stray duplicate the chance to show up before counting.
    const check = await fetch(`${server.url}/api/v1/pushes/${made.at(-1)}`);
    expect(check.status).toBe(200);
    expect(reader.ids).toEqual(upTo(last));
    reader.close();
  });
});

async function waitForMetric(server: TestServer, name: string, wanted: (value: number) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  let value = await metric(server, name);
  while (!wanted(value)) {
    if (Date.now() > deadline) throw new Error(`${name} is still ${value} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await metric(server, name);
  }
}
