/**
 * A coordinator in the test's own process for API tests: the context the server runs
 * (coordinator-context.ts) over SQLite in a temporary directory (or a fresh PostgreSQL schema),
 * without a socket; requests go in through Fastify's `inject`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Assignment, encodeFrame, LOG_CONTENT_TYPE, type Scope } from '@switchyard/protocol';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { type Farm, sha256Hex } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { type CoordinatorContext, createCoordinatorContext } from '../coordinator-context.ts';
import type { DialectName } from '../store/dialect.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';
import { createTestSchema } from '../store/test-database.ts';

/** `app` on every branch, `test` after it, and `site` for `docs` on debian workers. */
export const FARM_YAML = `
repos:
  - { name: app, url: /srv/app.git }
  - { name: docs, url: /srv/docs.git }
server: { lease_seconds: 30, claim_wait_seconds: 1 }
builders:
  - name: build
    repo: app
    pool: linux
    artifacts: [{ path: dist/app.tar, name: app.tar }]
    steps: [{ name: compile, run: make }]
  - name: test
    repo: app
    pool: linux
    after: build
    fetch: [{ from: build, artifact: app.tar }]
    steps: [{ name: check, run: make check }]
  - name: site
    repo: docs
    pool: linux
    tags: { os: debian }
    steps: [{ name: render, run: make html }]
`;

/** One token per scope, named after it: `Bearer <scope>-token`. */
export function authSection(publicRead: boolean): string {
  const tokens = ['read', 'push', 'cancel', 'worker', 'admin'].map(
    (scope) => `    - { name: ${scope}, sha256: ${sha256Hex(`${scope}-token`)}, scopes: [${scope}] }`,
  );
  return `auth:\n  public_read: ${publicRead}\n  tokens:\n${tokens.join('\n')}\n`;
}

export function bearer(scope: Scope): Record<string, string> {
  return { authorization: `Bearer ${scope}-token` };
}

interface Running {
  context: CoordinatorContext;
  store: FarmStore;
  dataDir: string;
  /** Drops the PostgreSQL schema the coordinator ran on. */
  dropSchema: () => Promise<void>;
}

let revisions = 0;

/** A coordinator on the farm `yaml` describes, started and closed by the test hooks. */
export class InProcessCoordinator {
  private running: Running | null = null;
  /** What each claim handed out, by attempt: the credential its reports carry. */
  private readonly attemptTokens = new Map<number, string>();
  readonly farm: Farm;

  /** `database`: SQLite in the data directory, or a fresh schema of the test PostgreSQL. */
  constructor(
    yaml: string,
    readonly database: DialectName = 'sqlite',
  ) {
    this.farm = parseConfig('inject-farm.yml', yaml);
  }

  get context(): CoordinatorContext {
    return this.current().context;
  }

  get store(): FarmStore {
    return this.current().store;
  }

  async start(): Promise<void> {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-inject-'));
    const logger = pino({ level: 'silent' });
    const farm = this.farm;
    const schema = this.database === 'postgres' ? await createTestSchema() : null;
    const store = await openFarmStore(schema?.url ?? join(dataDir, 'switchyard.db'), {
      agingMs: () => farm.scheduling.agingMs,
      logger,
    });
    const context = await createCoordinatorContext({ farm: () => farm, store, dataDir, logger });
    this.running = { context, store, dataDir, dropSchema: async () => schema?.drop() };
  }

  async close(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (!running) return;
    await running.context.close();
    await running.store.close();
    await running.dropSchema();
    rmSync(running.dataDir, { recursive: true, force: true });
  }

  inject(options: InjectOptions): Promise<LightMyRequestResponse> {
    return this.context.app.inject(options);
  }

  /** Pushes to `app` main (as the push token, for farms with auth); returns the push. */
  async push(
    body: Record<string, unknown> = {},
  ): Promise<{ id: number; jobs: Array<{ id: number; builder: string }> }> {
    revisions += 1;
    const response = await this.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      headers: bearer('push'),
      payload: { repo: 'app', branch: 'main', revision: revisions.toString(16).padStart(7, '0'), ...body },
    });
    expect(response.statusCode).toBe(201);
    return response.json().push;
  }

  /** A worker asks for work and is answered at once (no held claim). */
  async claim(worker: string, body: Record<string, unknown> = {}): Promise<Assignment | null> {
    const response = await this.inject({
      method: 'POST',
      url: `/api/v1/workers/${worker}/claim`,
      headers: bearer('worker'),
      payload: { pool: 'linux', instance: `${worker}-process`, waitSeconds: 0, ...body },
    });
    expect(response.statusCode).toBe(200);
    const assignment: Assignment | null = response.json().assignment;
    if (assignment) this.attemptTokens.set(assignment.attemptId, assignment.attemptToken);
    return assignment;
  }

  /** The credential the claim gave with an attempt: `Authorization` for what acts on it. */
  attemptCredential(attemptId: number): { authorization: string } {
    const token = this.attemptTokens.get(attemptId);
    if (!token) throw new Error(`attempt ${attemptId} was not claimed through this coordinator`);
    return { authorization: `Bearer ${token}` };
  }

  /**
   * A worker's report on its attempt (`steps/0/started`, `finished`, …) with the attempt's own
   * credential; a `heartbeat` goes with the worker token, as a worker sends it.
   */
  report(attemptId: number, path: string, payload: Record<string, unknown> = {}) {
    return this.inject({
      method: 'POST',
      url: `/api/v1/attempts/${attemptId}/${path}`,
      headers: path.startsWith('heartbeat') ? bearer('worker') : this.attemptCredential(attemptId),
      payload,
    });
  }

  /** A batch of log frames for step `step`, number `seq`. */
  appendLog(attemptId: number, step: number, seq: number, text: string) {
    return this.inject({
      method: 'POST',
      url: `/api/v1/attempts/${attemptId}/log?step=${step}&seq=${seq}`,
      headers: { ...this.attemptCredential(attemptId), 'content-type': LOG_CONTENT_TYPE },
      payload: encodeFrame('stdout', Buffer.from(text)),
    });
  }

  private current(): Running {
    if (!this.running) throw new Error('the in-process coordinator is not running');
    return this.running;
  }
}

/**
 * A coordinator for the tests of this file (FARM_YAML by default), started once for the file or
 * afresh for each test, when they need a farm of their own.
 */
export function inProcessCoordinator(
  yaml = FARM_YAML,
  per: 'file' | 'test' = 'file',
  database: DialectName = 'sqlite',
): InProcessCoordinator {
  const coordinator = new InProcessCoordinator(yaml, database);
  if (per === 'test') {
    beforeEach(() => coordinator.start());
    afterEach(() => coordinator.close());
  } else {
    beforeAll(() => coordinator.start());
    afterAll(() => coordinator.close());
  }
  return coordinator;
}

/** Expects the API's error answer: the status, and `{ error: { code, message, details } }`. */
export function expectError(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): { message: string; details: unknown } {
  expect({ status: response.statusCode, body: response.json() }).toMatchObject({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
  return response.json().error;
}

export const now = (): string => new Date().toISOString();
