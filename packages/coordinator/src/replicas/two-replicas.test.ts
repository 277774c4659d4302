import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaList } from '@switchyard/protocol';
import amqp from 'amqplib';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load-config.ts';
import { type CoordinatorContext, createCoordinatorContext } from '../coordinator-context.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';
import { createTestSchema, type TestSchema } from '../store/test-database.ts';

/** Short enough for a test, long enough that a loaded 2-core machine renews in time. */
const LEASE_MS = 1500;
const REPLICA = {
  timing: { heartbeatMs: 200, aliveWindowMs: 3000 },
  singletons: { leaseMs: LEASE_MS, renewMs: 250 },
};

/** The RabbitMQ the AMQP tests use (test/e2e/amqp.test.ts). */
const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Records the event ids the webhook receives, in arrival order. */
class Receiver {
  readonly ids: number[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.ids.push(Number(request.headers['switchyard-event-id']));
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.server?.close();
  }
}

interface Replica {
  store: FarmStore;
  context: CoordinatorContext;
  dataDir: string;
}

/**
 * Two coordinators on one PostgreSQL schema, in one process: the webhooks and AMQP singletons
 * run on one of them, and when that one dies (closed without letting its lease go) or stops
 * renewing (paused) the other takes over once the lease ran out, under the next term.
 */
describe('two replicas on one PostgreSQL', () => {
  let schema: TestSchema;
  let receiver: Receiver;
  const replicas: Replica[] = [];

  beforeEach(async () => {
    schema = await createTestSchema();
    receiver = new Receiver();
    await receiver.start();
  });

  afterEach(async () => {
    for (const replica of replicas.splice(0)) {
      await replica.context.close().catch(() => {});
      await replica.store.close().catch(() => {});
      rmSync(replica.dataDir, { recursive: true, force: true });
    }
    await receiver.close();
    await schema.drop();
  });

  const start = async (amqpExchange?: string): Promise<Replica> => {
    const amqpLine = amqpExchange ? `\n  amqp: { url: "${BROKER_URL}", exchange: ${amqpExchange} }` : '';
    const farm = parseConfig(
      'farm.yml',
      `repos: [{ name: demo, url: /x }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: b, run: "true" }] }
events:
  webhooks:
    - { name: ci, url: "http://127.0.0.1:${receiver.port}/hook", secret: "0123456789abcdef", filter: { types: [config.reloaded] } }${amqpLine}
`,
    );
    const logger = pino({ level: 'silent' });
    const store = await openFarmStore(schema.url, { agingMs: () => farm.scheduling.agingMs, logger });
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-replica-'));
    const context = await createCoordinatorContext({ farm: () => farm, store, dataDir, logger, replica: REPLICA });
    const replica = { store, context, dataDir };
    replicas.push(replica);
    return replica;
  };

  const view = async (replica: Replica): Promise<ReplicaList> => {
    const response = await replica.context.app.inject({ method: 'GET', url: '/api/v1/replicas' });
    expect(response.statusCode).toBe(200);
    return response.json() as ReplicaList;
  };

  const until = async <T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 10_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };

  const holderOf = async (replica: Replica, name: string) => {
    const list = await view(replica);
    return list.replicas.find((r) => r.singletons.includes(name))?.id ?? null;
  };

  it('delivers from one replica only, and from the other under the next term once the first died', async () => {
    const a = await start();
    const b = await start();
    const firstHolder = await until('a webhooks holder', () => holderOf(a, 'webhooks'));
    const [holder, other] = firstHolder === a.context.replica.id ? [a, b] : [b, a];
    const listed = await view(other);
    expect(listed.replicas.map((r) => r.state)).toEqual(['alive', 'alive']);
    expect(listed.singletons).toMatchObject([{ name: 'webhooks', holder: firstHolder, term: 1, held: true }]);

    for (const url of ['/healthz', '/readyz']) {
      const probe = await other.context.app.inject({ method: 'GET', url });
      expect(probe.json()).toEqual({ status: 'ok', replica: other.context.replica.id, problems: [] });
    }
    const metrics = (await holder.context.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('switchyard_replicas{state="alive"} 2');
    expect(metrics).toContain('switchyard_singleton_held{name="webhooks"} 1');
    expect(metrics).toContain('switchyard_singleton_term{name="webhooks"} 1');

    // Events committed through either replica go out once, from the holder.
    for (const replica of [a, b, a]) await replica.store.events.recordConfigReload(1, 1);
    await until('three deliveries', async () => receiver.ids.length >= 3);
    await sleep(300);
    expect(receiver.ids).toHaveLength(3);
    expect(new Set(receiver.ids).size).toBe(3);

    // The holder dies: its lease and its replica row are left to run out.
    const diedAt = Date.now();
    await holder.context.close({ graceful: false });
    await holder.store.close();
    replicas.splice(replicas.indexOf(holder), 1);
    await other.store.events.recordConfigReload(2, 1);
    await until('the delivery after the takeover', async () => receiver.ids.length >= 4);
    // Not before the dead holder's lease ran out: nobody delivered meanwhile.
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(LEASE_MS - REPLICA.singletons.renewMs);
    expect(new Set(receiver.ids).size).toBe(4);

    const after = await until('the dead replica shown dead', async () => {
      const list = await view(other);
      return list.replicas.some((r) => r.state === 'dead') ? list : null;
    });
    expect(after.singletons).toMatchObject([{ name: 'webhooks', holder: other.context.replica.id, term: 2 }]);
    expect(after.replicas.find((r) => r.self)).toMatchObject({ state: 'alive', singletons: ['webhooks'] });
  });

  it('stops a holder that cannot renew its lease, and fences what it writes after another took over', async () => {
    const a = await start();
    await until('a holds webhooks', async () => (await holderOf(a, 'webhooks')) === a.context.replica.id);
    // a "pauses": its renewals stop reaching the database (as under SIGSTOP, or a cut-off network).
    const renew = a.store.replicas.claimSingleton.bind(a.store.replicas);
    let paused = true;
    a.store.replicas.claimSingleton = async (...args) => {
      while (paused) await sleep(20);
      return renew(...args);
    };
    const b = await start();
    try {
      await until('b takes webhooks over', async () => (await holderOf(b, 'webhooks')) === b.context.replica.id);
      const { singletons } = await view(b);
      expect(singletons).toMatchObject([{ name: 'webhooks', holder: b.context.replica.id, term: 2 }]);
      // a stops its loop by itself once its lease could have run out: at its next renewal tick,
      // which on a loaded machine may come just after b took over (both run in this process).
      await until('a stopped its loop', async () =>
        (await a.context.app.inject({ method: 'GET', url: '/metrics' })).body.includes(
          'switchyard_singleton_held{name="webhooks"} 0',
        ),
      );
      // A write a makes under its old term is refused in the database.
      const stale = { name: 'webhooks', holder: a.context.replica.id, term: 1 };
      const subscription = (await a.store.subscriptions.all())[0];
      await expect(
        a.store.subscriptions.enqueue(subscription?.id as number, [], (subscription?.cursor ?? 0) + 1, stale),
      ).rejects.toMatchObject({ kind: 'singleton-lost' });
    } finally {
      // a wakes up (also when a check above failed, so that closing it does not wait forever).
      paused = false;
    }
    // Told b holds the lease, a stays out.
    await sleep(3 * REPLICA.singletons.renewMs);
    expect(await holderOf(a, 'webhooks')).toBe(b.context.replica.id);
    await b.store.events.recordConfigReload(3, 1);
    await until('the delivery from b', async () => receiver.ids.length >= 1);
    await sleep(300);
    expect(receiver.ids).toHaveLength(1);
  });

  it('publishes to the broker from one replica only, and from the other once the first died', async () => {
    const exchange = `switchyard-test-${randomUUID()}`;
    const consumer = await amqp.connect(BROKER_URL);
    try {
      const channel = await consumer.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, exchange, '#');
      const published: number[] = [];
      await channel.consume(queue, (message) => message && published.push(Number(message.properties.messageId)), {
        noAck: true,
      });
      const a = await start(exchange);
      const b = await start(exchange);
      const firstHolder = await until('an amqp-publisher holder', () => holderOf(a, 'amqp-publisher'));
      const [holder, other] = firstHolder === a.context.replica.id ? [a, b] : [b, a];
      // The publisher settles its cursor (the end of the log) before it connects: commit after that.
      await until('the holder connected to the broker', async () =>
        (await holder.context.app.inject({ method: 'GET', url: '/metrics' })).body.includes(
          'switchyard_amqp_connected 1',
        ),
      );
      const committed: number[] = [];
      for (const replica of [a, b, a]) {
        await replica.store.events.recordConfigReload(1, 1);
        committed.push(await replica.store.events.lastId());
      }
      await until('three messages', async () => published.length >= 3);
      await sleep(300);
      expect(published).toEqual(committed);

      await holder.context.close({ graceful: false });
      await holder.store.close();
      replicas.splice(replicas.indexOf(holder), 1);
      await other.store.events.recordConfigReload(2, 1);
      committed.push(await other.store.events.lastId());
      await until('the message after the takeover', async () => published.includes(committed[3] as number));
      // At least once and in order: the new holder starts from the cursor, which never went back.
      expect([...new Set(published)]).toEqual(committed);
      const { singletons } = await view(other);
      expect(singletons.find((singleton) => singleton.name === 'amqp-publisher')).toMatchObject({
        holder: other.context.replica.id,
        term: 2,
      });
    } finally {
      await (await consumer.createChannel()).deleteExchange(exchange);
      await consumer.close();
    }
  });
});
