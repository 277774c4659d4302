import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { SwitchyardEvent } from '@switchyard/protocol';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { waitUntil } from '../helpers/pids.ts';
import { freePort, killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

/** The shared RabbitMQ of the machine; the tests never stop it, they cut the way to it. */
const BROKER = { host: '127.0.0.1', port: 5672 };

/** A TCP proxy to the broker that the test opens and closes: closed, the broker is unreachable. */
class BrokerLink {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(readonly port: number) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(BROKER);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  /** Refuses new connections and cuts the open ones, as a network failure would. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server?.close();
    if (this.server) await once(this.server, 'close');
    this.server = null;
  }
}

const CONFIG = (linkPort: number, exchange: string) => `
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: build, repo: demo, pool: linux, checkout: false, steps: [{ name: b, run: "true" }] }
  - { name: test, repo: demo, pool: linux, after: build, checkout: false, steps: [{ name: t, run: "true" }] }
  - { name: lint, repo: demo, pool: linux, checkout: false, steps: [{ name: l, run: "exit 1" }] }
events:
  amqp: { url: "amqp://guest:guest@127.0.0.1:${linkPort}", exchange: ${exchange} }
`;

describe('the AMQP topic exchange', () => {
  const farm = new TestFarm();
  const exchange = `switchyard-test-${randomUUID()}`;
  let link: BrokerLink;
  let server: TestServer;
  let consumer: ChannelModel;
  const received: Array<{ routingKey: string; messageId: string; event: SwitchyardEvent }> = [];

  beforeAll(async () => {
    consumer = await amqp.connect(`amqp://guest:guest@${BROKER.host}:${BROKER.port}`);
    const channel = await consumer.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, 'job.finished.#');
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        received.push({
          routingKey: message.fields.routingKey,
          messageId: message.properties.messageId as string,
          event: JSON.parse(message.content.toString()) as SwitchyardEvent,
        });
      },
      { noAck: true },
    );
    link = new BrokerLink(await freePort());
    farm.writeConfig(CONFIG(link.port, exchange));
    server = await startServer({ config: farm.config, data: farm.data });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
  }, 60_000);

  afterAll(async () => {
    // The exchange is durable and the broker is shared: leave it as it was found.
    await (await consumer?.createChannel())?.deleteExchange(exchange);
    await consumer?.close();
    await link?.cut();
    await killAll();
    farm.remove();
  });

  async function finishedEventsOf(pushId: number): Promise<SwitchyardEvent[]> {
    const all = await collectEvents(
      server.client,
      (seen) =>
        seen.some((e) => e.type === 'push.completed' && (e.data as { push: { id: number } }).push.id === pushId),
      { push: pushId },
    );
    return all.filter((e) => e.type === 'job.finished');
  }

  it('publishes every job.finished under its routing key, also those produced while the broker was unreachable', async () => {
    // The coordinator started with the broker unreachable; these jobs finish meanwhile.
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const first = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const firstFinished = await finishedEventsOf(first.id);
    expect(firstFinished).toHaveLength(3);
    expect(received).toHaveLength(0);

    await link.open();
    await waitUntil(() => received.length >= 3, 30_000, 'the events of the outage to arrive');

    // Cut the connection the coordinator holds, produce more, then restore the link.
    await link.cut();
    const second = await server.client.createPush({ repo: 'demo', branch: 'release/1.0', revision });
    const secondFinished = await finishedEventsOf(second.id);
    await link.open();
    const expected = [...firstFinished, ...secondFinished];
    const ids = () => new Set(received.map((r) => r.event.id));
    await waitUntil(() => expected.every((e) => ids().has(e.id)), 45_000, 'every job.finished at the consumer');

    // At least once: a page may come twice around a cut, but every event comes, as sent.
    const byId = new Map(received.map((r) => [r.event.id, r]));
    expect([...byId.keys()].sort((a, b) => a - b)).toEqual(expected.map((e) => e.id));
    for (const event of expected) {
      const message = byId.get(event.id);
      expect(message?.event).toEqual(event);
      expect(message?.routingKey).toBe(event.routingKey);
      expect(message?.messageId).toBe(String(event.id));
    }
    expect(byId.get(secondFinished[0]?.id as number)?.routingKey).toMatch(/^job\.finished\.demo\.release\/1%2E0\./);
  });
});
