/**
 * A farm upgraded from coordinators that kept logs as gzip files under `<data>/logs`: its logs
 * read the same before and after the coordinator moves them into the log archive.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Assignment, encodeFrame, LOG_CONTENT_TYPE } from '@switchyard/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load-config.ts';
import { type CoordinatorContext, createCoordinatorContext } from '../coordinator-context.ts';
import { openDatabase } from '../store/open-database.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';
import { LegacyLogFiles } from './log-files.ts';

const farm = parseConfig(
  'legacy.yml',
  `
repos: [{ name: app, url: /srv/app.git }]
builders:
  - { name: build, repo: app, pool: linux, steps: [{ name: compile, run: make }] }
`,
);
const TEXT = Array.from({ length: 5000 }, (_, i) => `old line ${i}\n`).join('');

describe('logs of a farm from before the log archive', () => {
  let dataDir: string;
  let running: { store: FarmStore; context: CoordinatorContext } | null = null;

  const start = async () => {
    const logger = pino({ level: 'silent' });
    const store = await openFarmStore(join(dataDir, 'switchyard.db'), {
      agingMs: () => farm.scheduling.agingMs,
      logger,
    });
    const context = await createCoordinatorContext({ farm: () => farm, store, dataDir, logger });
    running = { store, context };
    return running;
  };
  const stop = async () => {
    await running?.context.close();
    await running?.store.close();
    running = null;
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchyard-legacy-logs-'));
  });
  afterEach(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads a gzip file under <data>/logs, and moves it into the archive at start', async () => {
    // A job run to its end, its log compacted as this coordinator does…
    const { context, store } = await start();
    const inject = context.app.inject.bind(context.app);
    const pushed = await inject({
      method: 'POST',
      url: '/api/v1/pushes',
      payload: { repo: 'app', branch: 'main', revision: 'abc1234' },
    });
    const jobId: number = pushed.json().push.jobs[0].id;
    const claimed = await inject({
      method: 'POST',
      url: '/api/v1/workers/w1/claim',
      payload: { pool: 'linux', instance: 'w1-process', waitSeconds: 0 },
    });
    const { attemptId, attemptToken }: Assignment = claimed.json().assignment;
    const headers = { authorization: `Bearer ${attemptToken}` };
    const at = new Date().toISOString();
    const frames = encodeFrame('stdout', Buffer.from(TEXT));
    for (const [url, payload] of [
      ['steps/0/started', { name: 'compile', startedAt: at }],
      ['log?step=0&seq=0', frames],
      ['steps/0/finished', { exitCode: 0, signal: null, timedOut: false, cancelled: false, finishedAt: at }],
      ['finished', { result: 'success', finishedAt: at }],
    ] as const) {
      const response = await inject({
        method: 'POST',
        url: `/api/v1/attempts/${attemptId}/${url}`,
        headers: Buffer.isBuffer(payload) ? { ...headers, 'content-type': LOG_CONTENT_TYPE } : headers,
        payload,
      });
      expect(response.statusCode).toBe(200);
    }
    await expect.poll(async () => (await store.jobs.stepsOf(attemptId))[0]?.log_archive ?? null).not.toBeNull();
    await stop();

    // …made into what a coordinator of the old layout left: the step marked compressed, no
    // archive, and its frames gzipped in <data>/logs/<attempt / 1000>/<attempt>/<step>.log.gz.
    const { db } = await openDatabase(join(dataDir, 'switchyard.db'));
    await db.updateTable('steps').set({ log_archive: null }).where('attempt_id', '=', attemptId).execute();
    await db.destroy();
    const legacy = new LegacyLogFiles(join(dataDir, 'logs'));
    mkdirSync(join(dataDir, 'logs', '0', String(attemptId)), { recursive: true });
    writeFileSync(legacy.gzipPath(attemptId, 0), gzipSync(frames));

    const again = await start();
    await expect
      .poll(async () => (await again.store.jobs.stepsOf(attemptId))[0]?.log_archive ?? null, { timeout: 10_000 })
      .not.toBeNull();
    expect(existsSync(legacy.gzipPath(attemptId, 0))).toBe(false);
    const read = await again.context.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}/log` });
    expect(read.body === TEXT).toBe(true);
    const lines = await again.context.app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${jobId}/log/lines?from=4999&to=5000`,
    });
    expect(lines.json()).toMatchObject({ lineCount: 5000, lines: ['old line 4998', 'old line 4999'] });
  });
});
