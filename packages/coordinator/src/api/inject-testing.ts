/**
 * A coordinator in the test's own process for API tests: the context the server runs
 * (coordinator-context.ts) over SQLite in a temporary directory, without a socket; requests go
 * in through Fastify's `inject`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Assignment, encodeFrame, LOG_CONTENT_TYPE, type Scope } from '@switchyard/protocol';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { expect } from 'vitest';
import { type Farm, sha256Hex } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { type CoordinatorContext, createCoordinatorContext } from '../coordinator-context.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';

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

export interface InProcessCoordinator {
  readonly context: CoordinatorContext;
  readonly store: FarmStore;
  readonly farm: Farm;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Starts a coordinator on the farm `yaml` describes (FARM_YAML by default). */
export async function startInProcess(yaml = FARM_YAML): Promise<InProcessCoordinator> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-inject-'));
  const farm = parseConfig('inject-farm.yml', yaml);
  const logger = pino({ level: 'silent' });
  const store = await openFarmStore(join(dataDir, 'switchyard.db'), { agingMs: () => farm.scheduling.agingMs, logger });
  const context = await createCoordinatorContext({ farm: () => farm, store, dataDir, logger });
  return {
    context,
    store,
    farm,
    inject: (options) => context.app.inject(options),
    async close() {
      await context.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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

let revisions = 0;

/** Pushes to `app` main through the API (as the push token where auth is on); returns the push. */
export async function pushThroughApi(
  coordinator: InProcessCoordinator,
  body: Record<string, unknown> = {},
): Promise<{ id: number; jobs: Array<{ id: number; builder: string }> }> {
  revisions += 1;
  const response = await coordinator.inject({
    method: 'POST',
    url: '/api/v1/pushes',
    headers: bearer('push'),
    payload: { repo: 'app', branch: 'main', revision: revisions.toString(16).padStart(7, '0'), ...body },
  });
  expect(response.statusCode).toBe(201);
  return response.json().push;
}

/** A worker asks for work and is answered at once (no held claim). */
export async function claimThroughApi(
  coordinator: InProcessCoordinator,
  worker: string,
  body: Record<string, unknown> = {},
): Promise<Assignment | null> {
  const response = await coordinator.inject({
    method: 'POST',
    url: `/api/v1/workers/${worker}/claim`,
    headers: bearer('worker'),
    payload: { pool: 'linux', instance: `${worker}-process`, waitSeconds: 0, ...body },
  });
  expect(response.statusCode).toBe(200);
  return response.json().assignment;
}

/** A worker's report on its attempt, as the worker token. */
export function report(
  coordinator: InProcessCoordinator,
  attemptId: number,
  path: string,
  payload: Record<string, unknown> = {},
) {
  return coordinator.inject({
    method: 'POST',
    url: `/api/v1/attempts/${attemptId}/${path}`,
    headers: bearer('worker'),
    payload,
  });
}

/** A batch of log frames for step `step`, number `seq`. */
export function appendLog(
  coordinator: InProcessCoordinator,
  attemptId: number,
  step: number,
  seq: number,
  text: string,
) {
  return coordinator.inject({
    method: 'POST',
    url: `/api/v1/attempts/${attemptId}/log?step=${step}&seq=${seq}`,
    headers: { ...bearer('worker'), 'content-type': LOG_CONTENT_TYPE },
    payload: encodeFrame('stdout', Buffer.from(text)),
  });
}

export const now = (): string => new Date().toISOString();
