/**
 * Two coordinators over one PostgreSQL schema, as two replicas behind a load balancer: a step's
 * log batches go to either, a reader follows it on the other, and it is read whole once compacted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Assignment, encodeFrame, LOG_CONTENT_TYPE } from '@switchyard/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load-config.ts';
import { type CoordinatorContext, createCoordinatorContext } from '../coordinator-context.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';
import { createTestSchema, type TestSchema } from '../store/test-database.ts';

interface Replica {
  store: FarmStore;
  context: CoordinatorContext;
  dataDir: string;
}

/** What a follower has read so far, and a way to wait for a text to be in it. */
class FollowedText {
  text = '';
  private waiters: Array<() => void> = [];
  readonly done: Promise<void>;

  /** `response`: the log route sends its headers with the first bytes it has. */
  constructor(response: Promise<Response>) {
    const decoder = new TextDecoder();
    this.done = (async () => {
      const body = (await response).body as unknown as AsyncIterable<Uint8Array>;
      for await (const chunk of body) {
        this.text += decoder.decode(chunk, { stream: true });
        for (const wake of this.waiters.splice(0)) wake();
      }
    })();
  }

  /** Resolves with how long `expected` took to be read, or rejects after `timeoutMs`. */
  async waitFor(expected: string, timeoutMs: number): Promise<number> {
    const started = performance.now();
    while (!this.text.includes(expected)) {
      const waited = performance.now() - started;
      if (waited > timeoutMs) throw new Error(`"${expected.trim()}" was not followed within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return performance.now() - started;
  }
}

describe('a step’s log on two replicas', () => {
  let schema: TestSchema;
  let shared: string;
  let a: Replica;
  let b: Replica;
  let bUrl: string;

  beforeAll(async () => {
    schema = await createTestSchema();
    shared = mkdtempSync(join(tmpdir(), 'switchyard-replicated-logs-'));
    // Both replicas keep blobs, so the log archive too, in one place: S3 for real replicas.
    const farm = parseConfig(
      'replicas.yml',
      `
repos: [{ name: app, url: /srv/app.git }]
server: { lease_seconds: 30, blob_dir: ${join(shared, 'blobs')} }
builders:
  - { name: build, repo: app, pool: linux, steps: [{ name: compile, run: make }] }
`,
    );
    const start = async (name: string): Promise<Replica> => {
      const dataDir = join(shared, name);
      const logger = pino({ level: 'silent' });
      const store = await openFarmStore(schema.url, { agingMs: () => farm.scheduling.agingMs, logger });
      const context = await createCoordinatorContext({ farm: () => farm, store, dataDir, logger });
      return { store, context, dataDir };
    };
    a = await start('a');
    b = await start('b');
    bUrl = await b.context.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    for (const replica of [a, b]) {
      await replica?.context.close();
      await replica?.store.close();
    }
    await schema?.drop();
    rmSync(shared, { recursive: true, force: true });
  });

  it('takes batches on either, follows them live on the other, and reads the log whole once compacted', async () => {
    const pushed = await a.context.app.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      payload: { repo: 'app', branch: 'main', revision: 'abc1234' },
    });
    expect(pushed.statusCode).toBe(201);
    const jobId: number = pushed.json().push.jobs[0].id;
    const claimed = await b.context.app.inject({
      method: 'POST',
      url: '/api/v1/workers/w1/claim',
      payload: { pool: 'linux', instance: 'w1-process', waitSeconds: 0 },
    });
    const assignment: Assignment = claimed.json().assignment;
    const attemptId = assignment.attemptId;
    const authorization = `Bearer ${assignment.attemptToken}`;
    const report = (replica: Replica, path: string, payload: Record<string, unknown>) =>
      replica.context.app.inject({
        method: 'POST',
        url: `/api/v1/attempts/${attemptId}/${path}`,
        headers: { authorization },
        payload,
      });
    const append = (replica: Replica, seq: number, text: string) =>
      replica.context.app.inject({
        method: 'POST',
        url: `/api/v1/attempts/${attemptId}/log?step=0&seq=${seq}`,
        headers: { authorization, 'content-type': LOG_CONTENT_TYPE },
        payload: encodeFrame('stdout', Buffer.from(text)),
      });
    const now = () => new Date().toISOString();
    expect((await report(a, 'steps/0/started', { name: 'compile', startedAt: now() })).statusCode).toBe(200);

    const followed = new FollowedText(fetch(`${bUrl}/api/v1/jobs/${jobId}/log?follow=1`));

    const batches = Array.from({ length: 20 }, (_, seq) =>
      Array.from({ length: 50 }, (_, line) => `batch ${seq} line ${line}\n`).join(''),
    );
    const latencies: number[] = [];
    for (const [seq, text] of batches.entries()) {
      const receiver = seq % 2 === 0 ? a : b;
      const other = seq % 2 === 0 ? b : a;
      const answer = await append(receiver, seq, text);
      expect(answer.statusCode).toBe(200);
      // The same batch sent again to the other replica (the first answer was lost): not stored twice.
      const repeated = await append(other, seq, text);
      expect(repeated.json()).toEqual(answer.json());
      // Faster than the follower's poll: a batch stored on A wakes B's follower at once.
      latencies.push(await followed.waitFor(`batch ${seq} line 49\n`, 1500));
    }
    const gap = await append(b, batches.length + 1, 'skipped\n');
    expect(gap.statusCode).toBe(409);
    expect(gap.json()).toMatchObject({ error: { code: 'log-sequence-gap' } });
    expect(Math.max(...latencies)).toBeLessThan(1500);

    expect(
      (
        await report(b, 'steps/0/finished', {
          exitCode: 0,
          signal: null,
          timedOut: false,
          cancelled: false,
          finishedAt: now(),
        })
      ).statusCode,
    ).toBe(200);
    expect((await report(a, 'finished', { result: 'success', finishedAt: now() })).statusCode).toBe(200);
    await followed.done;
    const expected = batches.join('');
    expect(followed.text === expected).toBe(true);

    // One of them compacts it into the shared archive; the chunks go.
    await expect
      .poll(async () => (await a.store.jobs.stepsOf(attemptId))[0]?.log_archive ?? null, { timeout: 10_000 })
      .not.toBeNull();
    expect(await a.store.logs.chunks(attemptId, 0, 0, 10)).toEqual([]);
    const read = await a.context.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}/log` });
    expect(read.body === expected).toBe(true);
    // The dashboard's line index, built by A from the archive.
    const lines = await a.context.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}/log/lines?from=1&to=1000` });
    expect(lines.json()).toMatchObject({ lineCount: 1000 });
    expect(lines.json().lines.slice(-1)).toEqual(['batch 19 line 49']);
  });
});
