import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWITCHYARD_VERSION, WORKER_PROTOCOL_VERSION } from '@switchyard/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningWorker, startWorker } from './index.ts';
import { FakeCoordinator } from './testing/fake-coordinator.ts';

let coordinator: FakeCoordinator;
let workDir: string;
let worker: RunningWorker | undefined;
let lines: { level: number; msg: string }[];

beforeEach(async () => {
  coordinator = new FakeCoordinator();
  await coordinator.start();
  workDir = await mkdtemp(join(tmpdir(), 'switchyard-refusals-'));
  lines = [];
});

afterEach(async () => {
  await worker?.stop();
  await coordinator.close();
  await rm(workDir, { recursive: true, force: true });
});

function start(): void {
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  worker = startWorker({ server: coordinator.url, name: 'w1', pool: 'linux', workDir, logger, claimWaitSeconds: 1 });
}

const errors = () => lines.filter((line) => line.level >= 50).map((line) => line.msg);

/** The first error the worker logged, once it has. */
function loggedError(): Promise<string> {
  return vi.waitFor(
    () => {
      expect(errors()).not.toEqual([]);
      return errors()[0]!;
    },
    { timeout: 20_000, interval: 50 },
  );
}

describe('a worker whose claims are refused for its version', () => {
  it('sends its worker protocol with its claims', async () => {
    start();
    await coordinator.waitForClaims(1);
    expect(coordinator.claims[0]?.protocol).toBe(String(WORKER_PROTOCOL_VERSION));
  });

  it('logs what the coordinator says it should do, once, and asks again slowly', async () => {
    const message = 'this worker speaks worker protocol 1; this coordinator takes 2 and 3: upgrade the worker';
    coordinator.claimRefusal = { status: 400, code: 'worker-too-old', message };
    start();
    expect(await loggedError()).toBe(`${message}; asking again every 30 s`);
    expect(errors()).toHaveLength(1);
  });

  it('tells its operator to upgrade the coordinators first when one of another version refuses its claim as invalid', async () => {
    coordinator.version = '0.0.9';
    coordinator.claimRefusal = {
      status: 400,
      code: 'invalid-request',
      message: 'body must NOT have additional properties',
    };
    start();
    expect(await loggedError()).toBe(
      `the coordinator (Switchyard 0.0.9) refused this worker's claim as invalid; this worker is Switchyard ${SWITCHYARD_VERSION}: if the coordinator is the older, it does not know what newer workers send: upgrade the coordinators before the workers (docs/guide/upgrades.md); asking again every 30 s`,
    );
  });
});
