/**
 * @module
 * The entry of a signing worker thread: runs the tasks the pool sends, one at a time, and
 * answers each with its result or the error's name and message (never a key: errors come
 * from the MAR reader, the codecs and crypto, none of which quote key material).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PoolReply, PoolRequest, PoolSetup } from './pool-tasks.ts';
import { createTaskRunner } from './run-task.ts';

const port = parentPort;
if (!port) throw new Error('pool-worker.ts runs only as a worker thread');
const runTask = createTaskRunner(workerData as PoolSetup);

port.postMessage({ ready: true } satisfies PoolReply);
port.on('message', async ({ id, task }: PoolRequest) => {
  let reply: PoolReply;
  try {
    const result = await runTask(task);
    reply = { id, ok: true, result: typeof result === 'string' ? result : ownMemory(result) };
  } catch (error) {
    const { name = 'Error', message = String(error) } = error as Error;
    reply = { id, ok: false, name, message };
  }
  // Results are handed over, not copied: this thread keeps no reference to them.
  const transfer = reply.ok && typeof reply.result !== 'string' ? [reply.result.buffer as ArrayBuffer] : [];
  port.postMessage(reply, transfer);
});

/** A small Buffer may view Node's shared allocation pool, which must not be transferred away. */
function ownMemory(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}
