import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { launchCoordinator } from '../launch-coordinator.ts';
import { DEMO_POOL } from './demo-config.ts';

export const DEMO_HOST = '127.0.0.1';
export const DEMO_WORKER_NAMES = ['demo-worker-1', 'demo-worker-2'];

export interface DemoFarm {
  url: string;
  /** Stops the workers (reporting any job they were running), then the coordinator. */
  stop(): Promise<void>;
}

/**
 * The demo's coordinator and two workers, all in this process. They log to files under `dir`
 * (`coordinator.log`, `workers/<name>.log`), so their JSON lines do not bury the demo's output.
 */
export async function startDemoFarm(options: { dir: string; configPath: string; port: number }): Promise<DemoFarm> {
  const coordinator = await launchCoordinator({
    configPath: options.configPath,
    dataDir: join(options.dir, 'data'),
    port: options.port,
    host: DEMO_HOST,
    logger: fileLogger('switchyard-coordinator', join(options.dir, 'coordinator.log')),
  });
  try {
    const { startWorker } = await import('@switchyard/worker');
    const workers = DEMO_WORKER_NAMES.map((name) =>
      startWorker({
        server: coordinator.url,
        name,
        pool: DEMO_POOL,
        workDir: join(options.dir, 'workers', name),
        // One store for the machine, as a real farm would run it: the repository is fetched once.
        repoStore: join(options.dir, 'repos'),
        logger: fileLogger(name, join(options.dir, 'workers', `${name}.log`)),
      }),
    );
    return {
      url: coordinator.url,
      async stop() {
        await Promise.all(workers.map((worker) => worker.stop()));
        await coordinator.close();
      },
    };
  } catch (error) {
    await coordinator.close();
    throw error;
  }
}

function fileLogger(name: string, path: string): Logger {
  return pino({ name }, pino.destination({ dest: path, mkdir: true }));
}
