import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type SwitchyardEvent, TOOL_FILENAME_HEADER } from '@switchyard/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../packages/coordinator/src/store/open-database.ts';
import { TestDatabases } from '../helpers/databases.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, switchyardCommand, type TestServer } from '../helpers/processes.ts';

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    artifacts: [out/app.txt]
    steps:
      - name: compile
        run: ./build.sh
  - name: test
    repo: demo
    pool: linux
    after: build
    checkout: false
    steps: [{ name: unit, run: echo testing }]
events:
  webhooks: [{ name: pushes, url: "$HOOK", secret: "sixteen-characters!", filter: { types: [push.created] } }]
`;
const BUILD = '#!/bin/sh\ntest -f fail && exit 1\nmkdir -p out && echo "built $SWITCHYARD_REVISION" > out/app.txt\n';

/** Every row of every table, in key order: what a copy must reproduce exactly. */
async function everyRow(target: string): Promise<Record<string, unknown[]>> {
  const { db } = await openDatabase(target);
  try {
    const tables: Record<string, unknown[]> = {};
    for (const table of TABLE_KEYS) {
      let query = db.selectFrom(table.name).selectAll();
      for (const column of table.key) query = query.orderBy(column as never);
      tables[table.name] = await query.execute();
    }
    return tables;
  } finally {
    await db.destroy();
  }
}

const TABLE_KEYS = [
  { name: 'pushes', key: ['id'] },
  { name: 'jobs', key: ['id'] },
  { name: 'attempts', key: ['id'] },
  { name: 'steps', key: ['attempt_id', 'idx'] },
  { name: 'workers', key: ['name'] },
  { name: 'events', key: ['id'] },
  { name: 'blobs', key: ['sha256'] },
  { name: 'artifacts', key: ['id'] },
  { name: 'tools', key: ['sha512'] },
  { name: 'tool_names', key: ['sha512', 'filename'] },
  { name: 'subscriptions', key: ['id'] },
  { name: 'deliveries', key: ['id'] },
  { name: 'delivery_attempts', key: ['delivery_id', 'number'] },
  { name: 'outbox_cursors', key: ['name'] },
] as const;

/** What the farm answers: its pushes, every job in detail, the workers, the webhooks, tools and the whole event log. */
async function answers(server: TestServer) {
  const pushes = await server.client.listPushes({ limit: 100 });
  const jobs = await Promise.all(
    pushes.flatMap((push) => push.jobs).map((job) => server.client.getJob(job.id).then(withoutScheduling)),
  );
  const artifacts = await Promise.all(jobs.map((job) => server.client.listArtifacts(job.id)));
  const subscriptions = await server.client.listSubscriptions();
  const deliveries = await Promise.all(subscriptions.map((s) => server.client.listDeliveries(s.id)));
  const workers = (await server.client.listWorkers()).map(({ name, pool, tags }) => ({ name, pool, tags }));
  const lastId = Math.max(...(await readEvents(server, 0, () => true)).map((e) => e.id));
  const events = await readEvents(server, 0, (seen) => seen.at(-1)?.id === lastId);
  return {
    pushes,
    jobs,
    artifacts,
    subscriptions,
    deliveries,
    workers,
    tools: await server.client.listTools(),
    events,
  };
}

async function waitUntilAsync(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The scheduling view says how many workers wait right now, which is not history. */
function withoutScheduling<T extends { scheduling?: unknown }>(job: T): Omit<T, 'scheduling'> {
  const { scheduling: _, ...rest } = job;
  return rest;
}

/** The event stream from `since`, until `done`; with `() => true`, as far as one read goes. */
async function readEvents(server: TestServer, since: number, done: (seen: SwitchyardEvent[]) => boolean) {
  return collectEvents(server.client, (seen) => seen.length > 0 && done(seen), { since });
}

describe('switchyard db copy', () => {
  const farm = new TestFarm();
  const databases = new TestDatabases('postgres');
  const sqliteFile = join(farm.data, 'switchyard.db');

  afterAll(async () => {
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  it("moves a farm's whole history to PostgreSQL, and the copy serves the same answers", async () => {
    // A webhook receiver that takes everything, so the deliveries are history, not still in flight.
    const receiver = createServer((request, response) => request.resume().on('end', () => response.end()));
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const { port } = receiver.address() as AddressInfo;
    farm.writeConfig(CONFIG.replace('$HOOK', `http://127.0.0.1:${port}/hook`));
    let server = await startServer({ config: farm.config, data: farm.data });
    const worker = startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const green = farm.commit('main', { 'build.sh': BUILD }, 'green');
    await waitForPushFinal(
      server.client,
      (await server.client.createPush({ repo: 'demo', branch: 'main', revision: green })).id,
    );
    const red = farm.commit('main', { fail: '' }, 'red');
    await waitForPushFinal(
      server.client,
      (await server.client.createPush({ repo: 'demo', branch: 'main', revision: red })).id,
    );
    const tool = Buffer.from('a toolchain\n');
    const digest = createHash('sha512').update(tool).digest('hex');
    const uploaded = await fetch(`${server.url}/api/v1/tools/sha512/${digest}`, {
      method: 'PUT',
      body: tool,
      headers: { 'content-type': 'application/octet-stream', [TOOL_FILENAME_HEADER]: 'gcc.tar.xz' },
    });
    expect(uploaded.status).toBe(201);
    const [subscription] = await server.client.listSubscriptions();
    await waitUntilAsync(async () => {
      const deliveries = await server.client.listDeliveries(subscription?.id as number);
      return deliveries.length === 2 && deliveries.every((delivery) => delivery.state === 'delivered');
    }, 'both pushes delivered to the webhook');
    const before = await answers(server);
    await worker.kill('SIGTERM');
    await server.kill('SIGTERM');

    const target = (await databases.fresh()) as string;
    const copy = await switchyardCommand(['db', 'copy', '--from', sqliteFile, '--to', target]);
    expect(copy.code, copy.output).toBe(0);
    const source = await everyRow(sqliteFile);
    const copied = await everyRow(target);
    for (const [table, rows] of Object.entries(source)) {
      expect(copy.output).toMatch(new RegExp(`^${table}\\s+${rows.length}\\s*$`, 'm'));
      expect(copied[table], table).toEqual(rows);
    }
    expect(source.events?.length).toBeGreaterThan(20);

    server = await startServer({ config: farm.config, data: farm.data, database: target });
    expect(await answers(server)).toEqual(before);
    // The copy goes on where the farm stopped: new rows take ids after the copied ones.
    const next = await server.client.createPush({ repo: 'demo', branch: 'main', revision: green });
    expect(next.id).toBe(Math.max(...before.pushes.map((p) => p.id)) + 1);
    const [created] = await readEvents(server, before.events.at(-1)?.id as number, () => true);
    expect(created?.id).toBe((before.events.at(-1)?.id as number) + 1);
    await server.kill('SIGTERM');
    receiver.close();

    const refused = await switchyardCommand(['db', 'copy', '--from', sqliteFile, '--to', target]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/already holds a farm \(pushes: 3, .*\); .*pass --force to replace it/);
    const forced = await switchyardCommand(['db', 'copy', '--from', sqliteFile, '--to', target, '--force']);
    expect(forced.code, forced.output).toBe(0);
    expect(await everyRow(target)).toEqual(source);
  });
});
