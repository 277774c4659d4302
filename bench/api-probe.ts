/**
 * The API probe of bench/event-fanout.ts --replay, in a process of its own so that the
 * subscribers' parsing in the driver does not delay its answers: asks `url` every `interval` ms,
 * one request at a time (after 20 uncounted ones), until told to stop over IPC; then sends
 * { latencies, failures }.
 *
 *   argv: url interval-ms
 */
import { setTimeout as sleep } from 'node:timers/promises';

const [url, intervalText] = process.argv.slice(2) as [string, string];
const interval = Number(intervalText);
const latencies: number[] = [];
let failures = 0;
let stopping = false;
process.on('message', () => {
  stopping = true;
});
// Warm the route (its first answers compile schemas and serializers) before anything is counted.
for (let i = 0; i < 20; i++) await (await fetch(url)).arrayBuffer();
process.send?.({ ready: true });
while (!stopping) {
  const start = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    await response.arrayBuffer();
    if (!response.ok) failures += 1;
  } catch {
    failures += 1;
  }
  latencies.push(performance.now() - start);
  await sleep(interval);
}
process.send?.({ latencies, failures });
process.disconnect();
