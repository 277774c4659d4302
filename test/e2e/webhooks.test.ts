import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { ApiRequestError, type SwitchyardEvent, verifyDelivery } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { waitUntil } from '../helpers/pids.ts';
import { freePort, killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const SECRET = 'a-secret-of-enough-length';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: SwitchyardEvent;
  answered: number;
}

/** A webhook receiver: records every POST and answers 500 while `failures` lasts, then 200. */
class Receiver {
  readonly received: Received[] = [];
  failures = 0;
  private server: Server | null = null;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const answered = this.failures > 0 ? 500 : 200;
        if (this.failures > 0) this.failures -= 1;
        this.received.push({ headers: request.headers, body, event: JSON.parse(body) as SwitchyardEvent, answered });
        response.writeHead(answered).end();
      });
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    this.server?.close();
    if (this.server) await once(this.server, 'close');
    this.server = null;
  }

  delivered(): number[] {
    return this.received.filter((r) => r.answered === 200).map((r) => r.event.id);
  }
}

const config = (receiverPort: number) => `
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: build, repo: demo, pool: linux, checkout: false, steps: [{ name: b, run: "true" }] }
  - { name: test, repo: demo, pool: linux, after: build, checkout: false, steps: [{ name: t, run: "true" }] }
  - { name: lint, repo: demo, pool: linux, checkout: false, steps: [{ name: l, run: "exit 3" }] }
events:
  webhook_retry: { first_seconds: 0.2, max_seconds: 1 }
  webhooks:
    - name: ci
      url: http://127.0.0.1:${receiverPort}/hook
      secret_env: HOOK_SECRET
      filter: { types: [job.finished, push.completed] }
`;

describe('webhooks', () => {
  const farm = new TestFarm();
  let receiver: Receiver;
  let server: TestServer;
  let port: number;
  const env = { HOOK_SECRET: SECRET };

  beforeAll(async () => {
    receiver = new Receiver(await freePort());
    await receiver.start();
    farm.writeConfig(config(receiver.port));
    port = await freePort();
    server = await startServer({ config: farm.config, data: farm.data, port, env });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
  }, 60_000);

  afterAll(async () => {
    await receiver.stop();
    await killAll();
    farm.remove();
  });

  /** The events the config webhook should get for these pushes, from the event log. */
  async function expectedFor(pushIds: Set<number>): Promise<SwitchyardEvent[]> {
    const done = (seen: SwitchyardEvent[]) =>
      seen.filter((e) => e.type === 'push.completed' && pushIds.has((e.data as { push: { id: number } }).push.id))
        .length === pushIds.size;
    return collectEvents(server.client, done, { types: ['job.finished', 'push.completed'] });
  }

  it('signs each delivery, retries after failures, and keeps the order', async () => {
    receiver.failures = 3;
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const expected = await expectedFor(new Set([push.id]));
    expect(expected.map((e) => e.type)).toEqual(['job.finished', 'job.finished', 'job.finished', 'push.completed']);
    await waitUntil(() => receiver.delivered().length === expected.length, 30_000, 'every event delivered');

    expect(receiver.delivered()).toEqual(expected.map((e) => e.id));
    // In order: a later event is never sent before an earlier one was delivered.
    const sent = receiver.received.map((r) => r.event.id);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
    expect(receiver.received.slice(0, 4).map((r) => [r.event.id, r.answered])).toEqual([
      [expected[0]?.id, 500],
      [expected[0]?.id, 500],
      [expected[0]?.id, 500],
      [expected[0]?.id, 200],
    ]);
    for (const { headers, body, event } of receiver.received) {
      const signature = headers['switchyard-signature'] as string;
      const [, t, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
      expect(mac).toBe(createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex'));
      expect(verifyDelivery(SECRET, signature, body)).toBe(true);
      expect(verifyDelivery('another-secret-entirely', signature, body)).toBe(false);
      expect(headers['switchyard-event']).toBe(event.type);
      expect(headers['content-type']).toBe('application/json');
    }
    const [subscription] = await server.client.listSubscriptions();
    expect(subscription).toMatchObject({ name: 'ci', source: 'config', pending: 0, failed: 0 });
    const log = await server.client.listDeliveries(subscription?.id as number);
    const first = log.find((d) => d.eventId === expected[0]?.id);
    expect(first?.state).toBe('delivered');
    expect(first?.attempts.map((a) => a.status)).toEqual([500, 500, 500, 200]);
  });

  it('redelivers an event from the delivery log on request', async () => {
    const [subscription] = await server.client.listSubscriptions();
    const id = subscription?.id as number;
    const [newest] = await server.client.listDeliveries(id, { limit: 1 });
    const before = receiver.received.length;
    const queued = await server.client.redeliver(id, newest?.id as number);
    expect(queued).toMatchObject({ eventId: newest?.eventId, redeliveryOf: newest?.id, state: 'pending' });
    await waitUntil(() => receiver.received.length > before, 15_000, 'the redelivery');
    expect(receiver.received.at(-1)?.event.id).toBe(newest?.eventId);
  });

  it('loses nothing across a receiver outage and a coordinator restart', async () => {
    await receiver.stop();
    const revision = farm.commit('main', { 'b.txt': 'b\n' });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const expected = await expectedFor(new Set([push.id]));
    const [subscription] = await server.client.listSubscriptions();
    const id = subscription?.id as number;
    // The receiver refused at least one POST of this outage before the coordinator stops.
    const deadline = Date.now() + 15_000;
    while (!(await server.client.listDeliveries(id)).some((d) => d.state === 'pending' && d.attempts.length > 0)) {
      if (Date.now() > deadline) throw new Error('no failed attempt while the receiver was down');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await server.kill('SIGTERM');
    const deliveredBefore = receiver.delivered().length;
    await receiver.start();
    server = await startServer({ config: farm.config, data: farm.data, port, env });
    const ofPush = (e: SwitchyardEvent) => {
      const data = e.data as { job?: { pushId: number }; push?: { id: number } };
      return (data.job?.pushId ?? data.push?.id) === push.id;
    };
    const wanted = expected.filter(ofPush);
    await waitUntil(
      () => wanted.every((e) => receiver.delivered().includes(e.id)),
      30_000,
      'the events of the outage delivered after the restart',
    );
    expect(receiver.delivered().slice(deliveredBefore)).toEqual(wanted.map((e) => e.id));
  });

  it('creates, lists and deletes API subscriptions, and refuses bad ones', async () => {
    const created = await server.client.createSubscription({
      url: `http://127.0.0.1:${receiver.port}/other`,
      secret: 'another-long-secret',
      filter: { routing_key: 'job.finished.demo.#', result: 'failure' },
    });
    expect(created).toMatchObject({ source: 'api', name: null, filter: { result: 'failure' } });
    expect(JSON.stringify(created)).not.toContain('another-long-secret');
    expect((await server.client.listSubscriptions()).map((s) => s.id)).toContain(created.id);
    await server.client.deleteSubscription(created.id);
    await expect(server.client.getSubscription(created.id)).rejects.toMatchObject({ status: 404 });

    const badFilter = server.client.createSubscription({
      url: 'http://127.0.0.1:1/x',
      secret: 'another-long-secret',
      filter: { types: ['job.exploded'] },
    });
    await expect(badFilter).rejects.toBeInstanceOf(ApiRequestError);
    await expect(badFilter).rejects.toMatchObject({ status: 400, message: 'unknown event type "job.exploded"' });
    await expect(
      server.client.createSubscription({ url: 'ftp://x', secret: 'another-long-secret' }),
    ).rejects.toMatchObject({ status: 400 });
    const [configured] = await server.client.listSubscriptions();
    await expect(server.client.deleteSubscription(configured?.id as number)).rejects.toMatchObject({ status: 409 });
  });
});
