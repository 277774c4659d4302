/**
 * The coordinator of bench/event-fanout.ts when events are produced in its own process: the
 * real composition (store, event log, API, streams), with pushes made by calling the store's
 * createPush — the verb POST /api/v1/pushes calls — instead of over HTTP, so the push rate is
 * not capped by the driver's HTTP round trips on a two-core machine.
 *
 * Started by the driver with IPC: argv config and data directory; sends { url } once
 * listening; on { rate, seconds, revision } produces and answers { sent, failed, elapsed }; on
 * { pushes, revision } makes that many pushes as fast as it can (a history for the replay case).
 */
import { startCoordinator } from '@switchyard/coordinator';
import { pino } from 'pino';
import { EVENTS_PER_PUSH, produce, pushRequest } from './fanout-workload.ts';

const [configPath, dataDir] = process.argv.slice(2) as [string, string];
const running = await startCoordinator({
  configPath,
  dataDir,
  port: 0,
  logger: pino({ level: 'warn' }),
  handleSignals: false,
});
process.send?.({ url: running.url });
type Production = { rate: number; seconds: number; revision: string } | { pushes: number; revision: string };
process.on('message', async (message: Production) => {
  const send = (n: number) => running.store.pushes.create(running.farm(), pushRequest(n, message.revision));
  const result =
    'pushes' in message
      ? await produce(send, 1e9, Number.POSITIVE_INFINITY, 4, message.pushes)
      : await produce(send, message.rate / EVENTS_PER_PUSH, message.seconds, 4);
  process.send?.(result);
});
process.on('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});
