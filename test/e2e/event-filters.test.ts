import { createHash } from 'node:crypto';
import type { EventFilter, SwitchyardEvent } from '@switchyard/protocol';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { collectEvents } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { freePort, killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    checkout: false
    steps: [{ name: b, run: "echo built > out.txt" }]
    artifacts: [out.txt]
  - { name: test, repo: demo, pool: linux, after: build, checkout: false, steps: [{ name: t, run: "true" }] }
  - name: lint
    repo: demo
    pool: linux
    branches: ["feature/*"]
    checkout: false
    steps: [{ name: l, run: "echo 'style error' >&2; exit 1" }]
`;

type JobData = { job: { id: number; repo: string; branch: string; builder: string; author: string; state: string } };
type PushData = { push: { id: number; repo: string; branch: string; author: string }; summary?: { result: string } };

/** What the test expects each event to be about, read from its data independently of the server's code. */
function about(event: SwitchyardEvent) {
  const data = event.data as Partial<JobData & PushData>;
  const subject = data.job ?? data.push;
  const result =
    event.type === 'job.finished'
      ? data.job?.state
      : event.type === 'push.completed'
        ? data.summary?.result
        : event.type === 'step.finished'
          ? (event.data as { step: { state: string } }).step.state
          : event.type === 'attempt.finished'
            ? (event.data as { attempt: { state: string } }).attempt.state
            : undefined;
  return { ...subject, builder: data.job?.builder, result };
}

/** Reads a stream until it holds as many events as expected (or times out) and returns their ids. */
async function streamIds(server: TestServer, filter: EventFilter, expected: number): Promise<number[]> {
  const events = await collectEvents(server.client, (seen) => seen.length >= expected, {
    ...filter,
    timeoutMs: 20_000,
  });
  return events.map((e) => e.id);
}

function socketEvents(url: string, count: number, headers: Record<string, string> = {}) {
  return new Promise<{ control: unknown[]; events: SwitchyardEvent[] }>((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const control: unknown[] = [];
    const events: SwitchyardEvent[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} events`)), 20_000);
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { id?: number };
      if (message.id === undefined) control.push(message);
      else events.push(message as SwitchyardEvent);
      if (events.length === count) {
        clearTimeout(timer);
        socket.close();
        resolve({ control, events });
      }
    });
    socket.on('error', reject);
    socket.on('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
}

describe('event filters, schemas and the WebSocket stream', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let all: SwitchyardEvent[];
  let port: number;

  beforeAll(async () => {
    farm.writeConfig(CONFIG);
    port = await freePort();
    server = await startServer({ config: farm.config, data: farm.data, port });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const first = await server.client.createPush({
      repo: 'demo',
      branch: 'main',
      revision,
      author: 'Ada Lovelace <ada@example.org>',
    });
    const second = await server.client.createPush({
      repo: 'demo',
      branch: 'feature/x.1',
      revision,
      author: 'Bob <bob@example.org>',
    });
    const completed = new Set([first.id, second.id]);
    all = await collectEvents(
      server.client,
      (seen) =>
        seen.filter((e) => e.type === 'push.completed' && completed.has((e.data as PushData).push.id)).length === 2,
    );
  }, 60_000);

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('announces push.completed once every job of the push is final, with a summary', () => {
    const completions = all.filter((e) => e.type === 'push.completed') as SwitchyardEvent<'push.completed'>[];
    expect(completions.map((e) => [e.data.push.branch, e.data.summary.result, e.data.summary.counts])).toEqual([
      ['main', 'success', { success: 2 }],
      ['feature/x.1', 'failure', { success: 2, failure: 1 }],
    ]);
    const featureCompletion = completions[1] as SwitchyardEvent<'push.completed'>;
    expect(featureCompletion.data.summary.notSucceeded).toMatchObject([{ builder: 'lint', state: 'failure' }]);
    const jobsFinished = all.filter(
      (e) =>
        e.type === 'job.finished' &&
        (e.data as { job: { pushId: number } }).job.pushId === featureCompletion.data.push.id,
    );
    expect(jobsFinished).toHaveLength(3);
    expect(jobsFinished.every((e) => e.id < featureCompletion.id)).toBe(true);
  });

  it('gives job events their routing key, and job.finished its result, attempt count and artifacts', () => {
    const failed = all.find(
      (e) => e.type === 'job.finished' && about(e).builder === 'lint',
    ) as SwitchyardEvent<'job.finished'>;
    expect(failed.routingKey).toBe('job.finished.demo.feature/x%2E1.lint.failure');
    expect(failed.data).toMatchObject({ result: 'failure', attempt: 1, artifacts: [] });
    const built = all.find(
      (e) => e.type === 'job.finished' && about(e).builder === 'build',
    ) as SwitchyardEvent<'job.finished'>;
    const sha256 = createHash('sha256').update('built\n').digest('hex');
    expect(built.data.artifacts).toEqual([
      { name: 'out.txt', size: 6, sha256, contentType: expect.any(String), url: `/api/v1/blobs/sha256/${sha256}` },
    ]);
    const created = all.find((e) => e.type === 'push.created') as SwitchyardEvent;
    expect(created.routingKey).toBe('push.created.demo.main._');
    const connected = all.find((e) => e.type === 'worker.connected') as SwitchyardEvent;
    expect(connected.routingKey).toBe('worker.connected.linux.w1');
  });

  it('serves a JSON Schema per event type that every event it sent validates against', async () => {
    const index = (await (await fetch(`${server.url}/api/v1/schemas/events`)).json()) as {
      events: { type: string; url: string; version: number }[];
    };
    expect(index.events.map((e) => e.type)).toContain('push.completed');
    const validators = new Map<string, ReturnType<typeof Compile>>();
    for (const entry of index.events) {
      const response = await fetch(`${server.url}${entry.url}`);
      expect(response.status).toBe(200);
      const schema = (await response.json()) as { title: string; version: number };
      expect(schema).toMatchObject({ title: entry.type, version: entry.version });
      validators.set(entry.type, Compile(schema as never));
    }
    const seenTypes = new Set(all.map((e) => e.type));
    expect(seenTypes.size).toBeGreaterThanOrEqual(9);
    for (const event of all) {
      const validator = validators.get(event.type);
      expect(validator, event.type).toBeDefined();
      expect(
        validator?.Check(event),
        `${event.type} #${event.id}: ${JSON.stringify(validator?.Errors(event)[0])}`,
      ).toBe(true);
    }
    expect((await fetch(`${server.url}/api/v1/schemas/events/job.exploded.json`)).status).toBe(404);
  });

  it('filters by type and result, author, branch and builder, and routing-key patterns', async () => {
    const cases: Array<[EventFilter, (e: SwitchyardEvent) => boolean]> = [
      [
        { types: ['job.finished'], result: 'failure' },
        (e) => e.type === 'job.finished' && about(e).result === 'failure',
      ],
      [{ author: 'bob@example.org' }, (e) => about(e).author === 'Bob <bob@example.org>'],
      [{ author: 'Ada Lovelace' }, (e) => about(e).author === 'Ada Lovelace <ada@example.org>'],
      [
        { branch: 'feature/x.1', builder: 'build' },
        (e) => about(e).branch === 'feature/x.1' && about(e).builder === 'build',
      ],
      [
        { routingKey: 'job.finished.demo.*.*.success' },
        (e) => e.type === 'job.finished' && about(e).result === 'success',
      ],
      [{ routingKey: 'push.#' }, (e) => e.type.startsWith('push.')],
      [{ routingKey: '#.failure' }, (e) => about(e).result === 'failure'],
      [{ routingKey: 'step.*.demo.main.#' }, (e) => e.type.startsWith('step.') && about(e).branch === 'main'],
    ];
    for (const [filter, expected] of cases) {
      const want = all.filter(expected).map((e) => e.id);
      expect(want.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(await streamIds(server, filter, want.length), JSON.stringify(filter)).toEqual(want);
    }
  });

  it('refuses a bad result or routing-key pattern with 400', async () => {
    const badResult = await fetch(`${server.url}/api/v1/events?result=green`);
    expect(badResult.status).toBe(400);
    expect(await badResult.json()).toMatchObject({
      error: { code: 'invalid-request', message: 'unknown result "green"' },
    });
    const badPattern = await fetch(`${server.url}/api/v1/events?routing_key=job..finished`);
    expect(badPattern.status).toBe(400);
  });

  it('streams the same events over a WebSocket, from ?since= or Last-Event-ID', async () => {
    const finished = all.filter((e) => e.type === 'job.finished');
    const ws = `ws://127.0.0.1:${port}/api/v1/events/ws?types=job.finished`;
    const fromStart = await socketEvents(`${ws}&since=0`, finished.length);
    expect(fromStart.control[0]).toEqual({ type: 'ready', cursor: 0 });
    expect(fromStart.events).toEqual(finished);
    const pivot = finished[1] as SwitchyardEvent;
    const resumed = await socketEvents(ws, finished.length - 2, { 'last-event-id': String(pivot.id) });
    expect(resumed.events).toEqual(finished.slice(2));
    await expect(socketEvents(`ws://127.0.0.1:${port}/api/v1/events/ws?types=nope`, 1)).rejects.toThrow('HTTP 400');
  });

  it('resumes a filtered stream across a coordinator restart with no gap and no repeat', async () => {
    const filter: EventFilter = { routingKey: 'job.finished.demo.#' };
    const received: SwitchyardEvent[] = [];
    const abort = new AbortController();
    const consuming = (async () => {
      for await (const event of server.client.events({ ...filter, since: 0, signal: abort.signal }))
        received.push(event);
    })();
    await server.kill('SIGTERM');
    server = await startServer({ config: farm.config, data: farm.data, port });
    const revision = farm.commit('main', { 'b.txt': 'b\n' });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobs = new Set(push.jobs.map((j) => j.id));
    const deadline = Date.now() + 30_000;
    while (received.filter((e) => jobs.has(about(e).id as number)).length < jobs.size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    abort.abort();
    await consuming;
    const everything = await collectEvents(server.client, (seen) => seen.at(-1)?.id === received.at(-1)?.id);
    const expected = everything.filter((e) => e.type === 'job.finished');
    expect(received.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(received.filter((e) => jobs.has(about(e).id as number))).toHaveLength(jobs.size);
  });
});
