/**
 * @module
 * A fixed set of worker threads, one per core by default, that run the CPU-bound parts of
 * signing (hashing and RSA over whole MARs, xz and bzip2, OpenPGP, osslsigncode) off the
 * server's event loop (forking osslsigncode from a large process costs the forking thread
 * ~20 ms, which on the server's loop was most of its time in the release benchmark),
 * so several jobs sign at once while the server keeps answering. Tasks queue in order; a thread
 * that dies fails only its own task and is replaced.
 */
import { Worker } from 'node:worker_threads';
import type { PoolReply, PoolSetup, PoolTask } from './pool-tasks.ts';
import { TaskInputError } from './task-input-error.ts';

/** Errors a task raises about its input rather than about the signer. */
const INPUT_ERRORS = new Set(['MarFormatError', 'CompressionError', 'TaskInputError']);

interface QueuedTask {
  id: number;
  task: PoolTask;
  resolve(result: Uint8Array | string): void;
  reject(error: Error): void;
}

interface PoolThread {
  worker: Worker;
  current: QueuedTask | null;
  /** Resolves once the thread has loaded its modules; rejects if it dies first. */
  ready: Promise<void>;
}

export interface PoolObserver {
  /** Tasks waiting for a thread, after every change. */
  queued(count: number): void;
}

export class WorkerPool {
  private readonly threads: PoolThread[] = [];
  private readonly queue: QueuedTask[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly setup: PoolSetup,
    private readonly observer: PoolObserver = { queued: () => {} },
  ) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
  }

  run(task: PoolTask): Promise<Uint8Array | string> {
    if (this.closed) return Promise.reject(new Error('the signing pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Resolves once every thread has loaded its modules (from the TypeScript sources that takes a
   * second or two): a server waits for it before it listens, a benchmark before it starts timing.
   */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.ready));
  }

  async runBytes(task: PoolTask): Promise<Buffer> {
    const result = await this.run(task);
    if (typeof result === 'string') throw new Error(`task ${task.kind} returned text, not bytes`);
    return Buffer.from(result.buffer, result.byteOffset, result.byteLength);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) queued.reject(new Error('the signing pool is closed'));
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private spawn(): PoolThread {
    const worker = startWorker(this.setup);
    let started = () => {};
    let failed = (_error: Error) => {};
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    // A thread replaced later has no one waiting for it: its failure is reported by its tasks.
    ready.catch(() => {});
    const thread: PoolThread = { worker, current: null, ready };
    thread.worker.on('message', (reply: PoolReply) => {
      if ('ready' in reply) {
        started();
        return;
      }
      const task = thread.current;
      thread.current = null;
      if (task?.id === reply.id) {
        if (reply.ok) task.resolve(reply.result);
        else task.reject(INPUT_ERRORS.has(reply.name) ? new TaskInputError(reply.message) : new Error(reply.message));
      }
      this.dispatch();
    });
    thread.worker.on('error', (error) => {
      failed(error);
      thread.current?.reject(error);
      thread.current = null;
    });
    thread.worker.on('exit', () => {
      failed(new Error('a signing thread exited before it was ready'));
      thread.current?.reject(new Error('a signing thread exited'));
      thread.current = null;
      if (this.closed) return;
      const index = this.threads.indexOf(thread);
      if (index !== -1) this.threads[index] = this.spawn();
      this.dispatch();
    });
    return thread;
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) break;
      if (thread.current) continue;
      const next = this.queue.shift() as QueuedTask;
      thread.current = next;
      // Inputs are copied, not transferred: the caller may still be using the memory they view.
      thread.worker.postMessage({ id: next.id, task: next.task });
    }
    this.observer.queued(this.queue.length);
  }
}

/**
 * From the TypeScript sources (tests, `tsx`), a thread registers tsx before loading the worker
 * module; `npm run build` compiles the worker to signing-worker.mjs beside the bundle.
 */
function startWorker(setup: PoolSetup): Worker {
  const options = { workerData: setup };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./signing-worker.mjs', import.meta.url), options);
  const source = new URL('./pool-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
