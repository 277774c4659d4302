/**
 * The coordinator of bench/event-fanout.ts when events are produced in its own process: the
 * real composition (store, event log, API, streams), with pushes made by calling the store's
 * createPush — the verb POST /api/v1/pushes calls — instead of over HTTP, so the push rate is
 * not capped by the driver's HTTP round trips on a two-core machine.
 *
 * Started by the driver with IPC: argv config and data directory; sends { url } once
 * listening; on { rate, seconds, revision } produces and answers { sent, failed, elapsed }.
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
process.on('message', async (message: { rate: number; seconds: number; revision: string }) => {
  const result = await produce(
    (n) => running.store.pushes.create(running.farm(), pushRequest(n, message.revision)),
    message.rate / EVENTS_PER_PUSH,
    message.seconds,
    4,
  );
  process.send?.(result);
});
process.on('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});
