import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  SWITCHYARD_VERSION,
  SwitchyardClient,
  WORKER_PROTOCOL_HEADER,
  WORKER_PROTOCOL_VERSION,
} from '@switchyard/protocol';
import { type Logger, pino } from 'pino';
import { runClaimLoop } from './claim-loop.ts';
import { runAttempt } from './job-runner.ts';
import type { StepUser } from './step-user.ts';
import { WarmCaches } from './warm-caches.ts';

export { resolveStepUser, type StepUser } from './step-user.ts';

export interface WorkerOptions {
  /** The coordinator's base URL, e.g. http://127.0.0.1:7420. */
  server: string;
  /** A token with the `worker` scope, when the coordinator requires one. */
  token?: string;
  /** A regional cache (`switchyard proxy`) to fetch artifacts through; its upstream `artifacts` is the coordinator. */
  cache?: string;
  /** Unique per worker: the coordinator tracks workers, and their leases, by name. */
  name: string;
  pool: string;
  /** Job directories go in `<workDir>/jobs`, the trees the steps run in in `<workDir>/trees`. */
  workDir: string;
  /**
   * The repository stores: share one among the workers of a machine, so each repository is
   * fetched once. @default `<workDir>/repos`
   */
  repoStore?: string;
  /** The tooltool cache, shareable too. @default `<workDir>/tool-cache` */
  toolCache?: string;
  /** @default 20 GiB */
  toolCacheMaxBytes?: number;
  tags?: Record<string, string>;
  /** @default pino({ name: 'switchyard-worker' }) */
  logger?: Logger;
  /** How long the coordinator may hold a claim before answering "nothing". @default 25 */
  claimWaitSeconds?: number;
  /** Between SIGTERM and SIGKILL when a step's process group is killed. @default 5000 */
  killGraceMs?: number;
  /**
   * Run build steps as this unprivileged user (`resolveStepUser`); the worker itself runs as root.
   * Without it steps run as the worker's user, and can read its token. See docs/guide/security.md.
   */
  stepUser?: StepUser;
}

export interface RunningWorker {
  /** Stops claiming, cancels the running job (reported as `worker-stopped`), and resolves. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped; rejects only on a bug in the worker itself. */
  done: Promise<void>;
}

const DEFAULT_TOOL_CACHE_BYTES = 20 * 1024 ** 3;

/** After `stop()`, how long the final reports of a cancelled job may take. */
const STOP_REPORT_TIMEOUT_MS = 5000;

/** Starts a worker agent: it claims jobs from the coordinator and runs them, one at a time. */
export function startWorker(options: WorkerOptions): RunningWorker {
  const logger = options.logger ?? pino({ name: 'switchyard-worker' });
  const client = new SwitchyardClient({
    server: options.server,
    token: options.token,
    // On every request, though only claims are checked: the coordinator refuses a protocol it no longer speaks.
    headers: { [WORKER_PROTOCOL_HEADER]: String(WORKER_PROTOCOL_VERSION) },
  });
  const killGraceMs = options.killGraceMs ?? 5000;
  const stopping = new AbortController();
  const warmCaches = new WarmCaches(options.workDir);
  logger.info({ server: client.server, name: options.name, pool: options.pool }, 'worker started');

  const done = runClaimLoop({
    client,
    workerName: options.name,
    pool: options.pool,
    tags: options.tags ?? {},
    version: SWITCHYARD_VERSION,
    instance: randomUUID(),
    waitSeconds: options.claimWaitSeconds ?? 25,
    logger,
    signal: stopping.signal,
    warm: () => warmCaches.list(),
    runAssignment: async (assignment, receivedAt) => {
      const end = await runAttempt({
        client,
        assignment,
        receivedAt,
        workDir: options.workDir,
        cache: options.cache,
        repoStore: options.repoStore ?? join(options.workDir, 'repos'),
        toolCache: {
          dir: options.toolCache ?? join(options.workDir, 'tool-cache'),
          maxBytes: options.toolCacheMaxBytes ?? DEFAULT_TOOL_CACHE_BYTES,
        },
        killGraceMs,
        stepUser: options.stepUser,
        logger,
        stopSignal: stopping.signal,
        stopReportTimeoutMs: STOP_REPORT_TIMEOUT_MS,
        holdLastReports: true,
      });
      if ('result' in end && end.result === 'success') await warmCaches.succeeded(assignment.job, new Date());
      return 'heldReport' in end ? end.heldReport : undefined;
    },
    stopReportTimeoutMs: STOP_REPORT_TIMEOUT_MS,
  }).then(() => logger.info('worker stopped'));

  return {
    done,
    stop: () => {
      stopping.abort();
      return done;
    },
  };
}
