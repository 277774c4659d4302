/**
 * @module
 * CPU profiles and heap snapshots of this process, taken with node:inspector's in-process
 * Session (what `--cpu-prof` and DevTools use), for `switchyard profile`. One capture at a time
 * per process: V8 has one profiler per isolate, and two heap snapshots at once would double
 * the pause. The reservation is process-wide, so a coordinator and a proxy sharing a process
 * share it too.
 */
import { closeSync, createReadStream, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { type Profiler, Session } from 'node:inspector';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export class ProfilerBusyError extends Error {
  override readonly name = 'ProfilerBusyError';
  constructor(readonly taking: string) {
    super(`a ${taking} of this process is being taken; ask again when it is done`);
  }
}

let taking: string | null = null;

/**
 * Takes the process's profiler for one capture, or throws ProfilerBusyError. Call the returned
 * function when the capture has been sent (it may be called more than once).
 */
export function reserveProfiler(what: 'CPU profile' | 'heap snapshot'): () => void {
  if (taking !== null) throw new ProfilerBusyError(taking);
  taking = what;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    taking = null;
  };
}

/**
 * Samples every JavaScript stack of the main thread for `seconds`, or until `signal` aborts
 * (then the profiler is stopped and null returned). Waiting costs nothing: V8 samples from its
 * own thread, and only stopping (building the profile) runs on the event loop.
 */
export async function takeCpuProfile(seconds: number, signal: AbortSignal): Promise<Profiler.Profile | null> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, seconds * 1000);
      signal.addEventListener('abort', done);
      if (signal.aborted) done();
    });
    const { profile } = await post<Profiler.StopReturnType>(session, 'Profiler.stop');
    return signal.aborted ? null : profile;
  } finally {
    session.disconnect();
  }
}

/** Nodes, samples and time deltas go out this many at a time, the event loop free between batches. */
const BATCH = 2000;

/**
 * The profile as `.cpuprofile` JSON (the DevTools Protocol's Profile object, which Chrome
 * DevTools and speedscope open), a batch at a time: a long profile has hundreds of thousands
 * of samples, and one JSON.stringify of it would hold the event loop for as long as it takes.
 */
export async function* cpuProfileJson(profile: Profiler.Profile): AsyncGenerator<string> {
  const { nodes, samples = [], timeDeltas = [], startTime, endTime } = profile;
  yield '{"nodes":[';
  yield* batches(nodes, (node) => JSON.stringify(node));
  yield `],"startTime":${startTime},"endTime":${endTime},"samples":[`;
  yield* batches(samples, String);
  yield '],"timeDeltas":[';
  yield* batches(timeDeltas, String);
  yield ']}';
}

async function* batches<T>(items: readonly T[], write: (item: T) => string): AsyncGenerator<string> {
  for (let start = 0; start < items.length; start += BATCH) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const text = items
      .slice(start, start + BATCH)
      .map(write)
      .join(',');
    yield start === 0 ? text : `,${text}`;
  }
}

export interface HeapSnapshotFile {
  /** The snapshot's bytes, read from the file; closing it closes the file. */
  body: Readable;
  size: number;
}

/**
 * Takes a heap snapshot into a file under `dir` that is unlinked as soon as it is opened, and
 * returns it to be read. The inspector hands the snapshot over in chunks while it holds the
 * event loop (it cannot be taken in the background); each chunk goes straight to the file, so
 * the process, whose heap may be most of its memory, never holds a second copy of it.
 * `dir` should be a real disk, not a tmpfs: the process's data directory, not /tmp.
 */
export async function takeHeapSnapshot(dir: string): Promise<HeapSnapshotFile> {
  const path = join(dir, `.heapsnapshot-${process.pid}-${Date.now()}.tmp`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  const session = new Session();
  let failure: Error | null = null;
  try {
    session.connect();
    // Thrown from here, an error would escape the inspector's dispatch; kept and thrown after it.
    session.on('HeapProfiler.addHeapSnapshotChunk', (message) => {
      if (failure) return;
      try {
        writeSync(fd, message.params.chunk);
      } catch (error) {
        failure = error as Error;
      }
    });
    await post(session, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    if (failure) throw failure;
    const size = fstatSync(fd).size;
    return { body: createReadStream('', { fd, start: 0, autoClose: true }), size };
  } catch (error) {
    closeSync(fd);
    throw error;
  } finally {
    session.disconnect();
  }
}

function post<T = object>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}
