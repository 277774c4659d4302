import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  ApiRequestError,
  isFinalJobState,
  type ReplicaList,
  SwitchyardClient,
  type SwitchyardEvent,
} from '@switchyard/protocol';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { testDatabaseQuery } from '../../packages/coordinator/src/store/test-database.ts';
import { TestDatabases } from '../helpers/databases.ts';
import { TestFarm } from '../helpers/farm.ts';
import { type Moto, startMoto } from '../helpers/moto.ts';
import { waitUntil } from '../helpers/pids.ts';
import { freePort, killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';
import { RoundRobin } from '../helpers/round-robin.ts';

const REPLICAS = 3;
const WORKERS = 6;
const JOBS = 300;
const LINES = 40;
const ARTIFACT_BYTES = 256 * 1024;
const BUCKET = 'replicas';
const HOOK_SECRET = 'a-webhook-secret-of-the-replica-test';

/** The bytes each job uploads: its job id repeated, so the test knows every artifact's digest. */
function artifactOf(jobId: number): Buffer {
  const line = Buffer.from(`job ${jobId}\n`);
  return Buffer.concat(Array.from({ length: Math.ceil(ARTIFACT_BYTES / line.length) }, () => line)).subarray(
    0,
    ARTIFACT_BYTES,
  );
}

/**
 * Three coordinators on one PostgreSQL database and one S3 (moto_server) behind a round-robin
 * balancer, six workers, 300 jobs that print a known number of lines and upload an artifact,
 * while replicas are killed, paused past their singleton lease and cut off from the database.
 * Nothing accepted may be lost, nothing may run twice at once, and every reader — the event
 * stream, the AMQP exchange, a webhook — gets everything in order.
 */
describe('three replicas, one database, one S3, and faults', () => {
  const farm = new TestFarm();
  const databases = new TestDatabases('postgres');
  const replicas: TestServer[] = [];
  const ports: number[] = [];
  const exchange = `switchyard-replicas-${randomUUID()}`;
  let database: string;
  let moto: Moto;
  let balancer: RoundRobin;
  let consumer: ChannelModel;
  let hooks: Server;
  const published: number[] = [];
  const hooked: number[] = [];
  const runningPids = () =>
    new Set(
      replicas
        .filter((replica) => replica.child.exitCode === null && replica.child.signalCode === null)
        .map((replica) => replica.child.pid as number),
    );

  afterAll(async () => {
    // A replica left paused by a failed run could not be killed otherwise.
    for (const replica of replicas) replica.child.kill('SIGCONT');
    await killAll();
    await balancer?.close();
    await (await consumer?.createChannel())?.deleteExchange(exchange);
    await consumer?.close();
    hooks?.close();
    await moto?.stop();
    await databases.dropAll();
    farm.remove();
  });

  async function startReplica(index: number): Promise<TestServer> {
    const data = join(farm.dir, `replica-${index}`);
    mkdirSync(data, { recursive: true });
    const replica = await startServer({
      config: farm.config,
      data,
      database,
      port: ports[index],
      blobs: `s3://${BUCKET}/farm`,
      env: { ...moto.env, HOOK_SECRET },
    });
    replicas[index] = replica;
    return replica;
  }

  it('runs every job to the end exactly once at a time, with every log line, artifact and event', async () => {
    let pushed = 0;
    let reader: ReturnType<typeof readEventsAcrossReplicas> = { finished: () => 0, stop: async () => [] };
    const phases: string[] = [];
    const started = Date.now();
    const phase = (what: string) => phases.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
    onTestFailed(() => {
      console.error(`phases:\n${phases.join('\n')}\npushed ${pushed}, finished seen ${reader.finished()}`);
      for (const [index, replica] of replicas.entries()) {
        console.error(`replica ${index} (pid ${replica.child.pid}):\n${replica.output().slice(-6000)}`);
      }
    });
    moto = await startMoto();
    await moto.bucket(BUCKET);
    consumer = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await consumer.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, 'job.finished.#');
    await channel.consume(queue, (message) => message && published.push(Number(message.properties.messageId)), {
      noAck: true,
    });
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        hooked.push((JSON.parse(body) as SwitchyardEvent).id);
        res.end();
      });
    });
    hooks.listen(0, '127.0.0.1');
    await once(hooks, 'listening');
    const hookPort = (hooks.address() as { port: number }).port;

    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
server: { lease_seconds: 10 }
events:
  amqp: { url: "amqp://guest:guest@127.0.0.1:5672", exchange: ${exchange} }
  webhooks:
    - { name: ci, url: "http://127.0.0.1:${hookPort}/hook", secret_env: HOOK_SECRET, filter: { types: [job.finished] } }
builders:
  - name: lines
    repo: demo
    pool: linux
    checkout: false
    artifacts: [out/data.bin]
    steps:
      - name: print
        run: |
          for i in $(seq 1 ${LINES}); do echo "line $i of $SWITCHYARD_JOB_ID"; done
          mkdir -p out
          yes "job $SWITCHYARD_JOB_ID" | head -c ${ARTIFACT_BYTES} > out/data.bin
`);
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    database = (await databases.fresh()) as string;
    for (let i = 0; i < REPLICAS; i++) ports.push(await freePort());
    await startReplica(0);
    await forbidOverlappingAttempts(database);
    for (let i = 1; i < REPLICAS; i++) await startReplica(i);
    balancer = await RoundRobin.start(replicas.map((replica) => replica.url));
    const client = new SwitchyardClient({ server: balancer.url });
    for (let i = 0; i < WORKERS; i++) {
      startWorker({ server: balancer.url, name: `w${i}`, pool: 'linux', workDir: farm.workerDir(`w${i}`) });
    }
    reader = readEventsAcrossReplicas(client);
    phase('replicas, balancer and workers started');

    // Pushes keep coming while the faults happen; one whose answer was lost may or may not exist.
    const pushing = (async () => {
      while (pushed < JOBS) {
        await client.createPush({ repo: 'demo', branch: 'main', revision }).then(
          () => {
            pushed += 1;
          },
          () => new Promise((resolve) => setTimeout(resolve, 200)),
        );
      }
    })();
    const finishedPart = (part: number) => () => reader.finished() >= JOBS * part;

    await waitUntil(finishedPart(0.15), 120_000, '15% of the jobs to finish');
    // Workers hold long-poll claims on every replica: kill one under them.
    await replicas[0]?.kill('SIGKILL');
    phase('killed replica 0');
    await startReplica(0);
    phase('replica 0 restarted');

    await waitUntil(finishedPart(0.35), 120_000, '35% of the jobs to finish');
    // Artifacts are uploading all the time; kill another in the middle of some.
    await replicas[1]?.kill('SIGKILL');
    phase('killed replica 1');
    await startReplica(1);
    phase('replica 1 restarted');

    await waitUntil(finishedPart(0.55), 120_000, '55% of the jobs to finish');
    const holder = await singletonHolder(client, runningPids());
    process.kill(holder.pid, 'SIGSTOP');
    phase('stopped the singleton holder');
    // Paused past its lease: another replica takes the singletons over, then the paused one wakes.
    const deadline = Date.now() + 60_000;
    while ((await singletonHolder(client, runningPids())).pid === holder.pid) {
      if (Date.now() > deadline) throw new Error('no replica took over the singletons of a paused one');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    process.kill(holder.pid, 'SIGCONT');
    phase('another replica took over; the stopped one continued');

    await waitUntil(finishedPart(0.75), 120_000, '75% of the jobs to finish');
    const cutOff = replicas[2] as TestServer;
    await terminateConnectionsOf(cutOff.child.pid as number);
    phase("cut replica 2's database sessions");

    await pushing;
    phase('every push accepted');
    const all = await againWhileUnavailable(() => everyPush(client));
    const jobIds = all.flatMap((push) => push.jobs.map((job) => job.id));
    expect(jobIds.length).toBeGreaterThanOrEqual(JOBS);
    const finalDeadline = Date.now() + 180_000;
    let jobs = await againWhileUnavailable(() => Promise.all(jobIds.map((id) => client.getJob(id))));
    while (!jobs.every((job) => isFinalJobState(job.state))) {
      if (Date.now() > finalDeadline) {
        throw new Error(`not final: ${jobs.filter((j) => !isFinalJobState(j.state)).map((j) => `${j.id} ${j.state}`)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      jobs = await againWhileUnavailable(() => Promise.all(jobIds.map((id) => client.getJob(id))));
    }
    phase('every job final');
    expect(jobs.filter((job) => job.state !== 'success').map((job) => `${job.id} ${job.state}`)).toEqual([]);

    // No two attempts of a job overlapped (the database's exclusion constraint refused any too).
    for (const job of jobs) {
      const intervals = job.attempts
        .map((attempt) => [Date.parse(attempt.startedAt), Date.parse(attempt.finishedAt as string)] as const)
        .sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < intervals.length; i++) {
        expect((intervals[i] as readonly [number, number])[0]).toBeGreaterThanOrEqual(
          (intervals[i - 1] as readonly [number, number])[1],
        );
      }
    }

    for (const jobId of jobIds) {
      const index = await client.logIndex(jobId);
      expect(index.complete).toBe(true);
      const lines = await client.logLines(jobId, { from: 1, to: index.lineCount });
      expect(lines.lines.filter((line) => line.startsWith('line '))).toEqual(
        Array.from({ length: LINES }, (_, i) => `line ${i + 1} of ${jobId}`),
      );
      const expected = createHash('sha256').update(artifactOf(jobId)).digest('hex');
      const [artifact] = await client.listArtifacts(jobId);
      expect(artifact?.sha256).toBe(expected);
      const body = Buffer.from(
        await (await fetch(`${balancer.url}/api/v1/jobs/${jobId}/artifacts/data.bin`)).arrayBuffer(),
      );
      expect(createHash('sha256').update(body).digest('hex')).toBe(expected);
    }

    const stored = await storedEvents(database);
    const finishedIds = stored.filter((event) => event.type === 'job.finished').map((event) => event.id);
    expect(finishedIds.length).toBe(jobIds.length);
    const seen = await reader.stop(finishedIds.at(-1) as number);
    expect(seen).toEqual(stored.filter((event) => event.id <= (seen.at(-1) as number)).map((event) => event.id));

    await waitUntil(() => finishedIds.every((id) => published.includes(id)), 60_000, 'AMQP to get every job.finished');
    await waitUntil(
      () => finishedIds.every((id) => hooked.includes(id)),
      60_000,
      'the webhook to get every job.finished',
    );
    expect(firstOccurrences(published)).toEqual([...firstOccurrences(published)].sort((a, b) => a - b));
    expect(firstOccurrences(hooked)).toEqual([...firstOccurrences(hooked)].sort((a, b) => a - b));
  }, 600_000);
});

/** Ids in the order they first arrived: a redelivered range may repeat, but never reorders. */
function firstOccurrences(ids: readonly number[]): number[] {
  return [...new Set(ids)];
}

function schemaOf(databaseUrl: string): string {
  return new URL(databaseUrl).searchParams.get('schema') as string;
}

/** The test database refuses two attempts of one job whose times overlap. */
async function forbidOverlappingAttempts(databaseUrl: string): Promise<void> {
  await testDatabaseQuery('create extension if not exists btree_gist');
  await testDatabaseQuery(
    `alter table "${schemaOf(databaseUrl)}".attempts add constraint attempts_never_overlap
       exclude using gist (job_id with =, int8range(started_at, finished_at) with &&)`,
  );
}

/** Ends every PostgreSQL session of one coordinator process, as a network cut or a failover would. */
async function terminateConnectionsOf(pid: number): Promise<void> {
  const ended = await testDatabaseQuery(
    'select pg_terminate_backend(pid) from pg_stat_activity where application_name like $1',
    [`switchyard-% ${pid}`],
  );
  expect(ended.length).toBeGreaterThan(0);
}

async function storedEvents(databaseUrl: string): Promise<Array<{ id: number; type: string }>> {
  const rows = await testDatabaseQuery<{ id: string; type: string }>(
    `select id, type from "${schemaOf(databaseUrl)}".events order by id`,
  );
  return rows.map((row) => ({ id: Number(row.id), type: row.type }));
}

/**
 * The running replica that holds the singletons. A replica killed a moment ago is listed alive
 * with its singletons until its heartbeat runs out, so only `running` processes count.
 */
async function singletonHolder(client: SwitchyardClient, running: ReadonlySet<number>): Promise<{ pid: number }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = (await client.request('GET', '/api/v1/replicas').catch(() => null)) as ReplicaList | null;
    const holder = list?.replicas.find(
      (replica) => replica.singletons.length > 0 && replica.state === 'alive' && running.has(replica.pid),
    );
    if (holder) return { pid: holder.pid };
    if (Date.now() > deadline) throw new Error(`no replica holds a singleton: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Reads again after a 503 `database-unavailable`, as the answer asks: a read that met one of the
 * sessions the test just cut ends with it, and nothing was stored. Any other error fails the test.
 */
async function againWhileUnavailable<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ApiRequestError && error.code === 'database-unavailable') || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function everyPush(client: SwitchyardClient) {
  const pushes = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.listPushes({ limit: 100, before });
    pushes.push(...page);
    if (page.length < 100) return pushes;
    before = page.at(-1)?.id;
  }
}

/**
 * An event reader that reconnects every few events through the balancer (so to the next
 * replica), resuming after the last id it saw, and on any error (a killed replica).
 */
function readEventsAcrossReplicas(client: SwitchyardClient) {
  const ids: number[] = [];
  let finished = 0;
  const abort = new AbortController();
  const reading = (async () => {
    while (!abort.signal.aborted) {
      const connection = new AbortController();
      const stop = () => connection.abort();
      abort.signal.addEventListener('abort', stop);
      let taken = 0;
      try {
        for await (const event of client.events({ since: ids.at(-1) ?? 0, signal: connection.signal })) {
          ids.push(event.id);
          if (event.type === 'job.finished') finished += 1;
          if (++taken >= 50) break;
        }
      } catch {
        if (!abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        abort.signal.removeEventListener('abort', stop);
        connection.abort();
      }
    }
  })();
  return {
    finished: () => finished,
    /** Reads until the event `lastId` has been seen, then stops; returns every id seen, in order. */
    async stop(lastId: number): Promise<number[]> {
      await waitUntil(() => (ids.at(-1) ?? 0) >= lastId, 60_000, `the event stream to reach event ${lastId}`);
      abort.abort();
      await reading;
      return ids;
    },
  };
}
