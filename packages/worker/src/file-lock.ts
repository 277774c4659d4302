import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { sleep } from './sleep.ts';

/** Who holds a lock: enough to tell, from another process, whether the holder still lives. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Changes at every boot: a lock from before a reboot is dead whatever its pid says. */
  boot: string;
  /** When the process started (ticks since boot): tells the holder from a later process given its pid. */
  started?: string;
  purpose: string;
  since: string;
}

export interface HeldLock {
  /**
   * The dead holder whose lock this one replaced, or null. What it protected may be half
   * written: the caller treats it as suspect (robustcheckout's rule: delete, don't repair).
   */
  readonly brokeStaleLock: LockOwner | null;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Says what the holder is doing, for whoever waits. */
  purpose: string;
  /**
   * A lock held from another host (a shared filesystem) counts as abandoned when not refreshed
   * for this long; one held on this host only when its process is gone. @default 30000
   */
  staleMs?: number;
  /** Called once, when the lock is found held by someone alive. */
  onWait?: (owner: LockOwner | null) => void;
  signal?: AbortSignal;
}

const OWNER_FILE = 'owner.json';
const DEFAULT_STALE_MS = 30_000;
const POLL_MS = 50;
const MAX_POLL_MS = 500;

/**
 * A lock shared by processes on one machine (or one shared filesystem): a directory made with
 * mkdir, which is atomic, holding its owner. The holder touches it every few seconds; a lock
 * whose holder is gone (on this host: its pid dead, a zombie, reused by a later process, or from
 * before a reboot; from another host: no touch for `staleMs`) is broken, and the new holder is
 * told so.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  let waited = false;
  let pollMs = POLL_MS;
  let brokeStaleLock: LockOwner | null = null;
  for (;;) {
    options.signal?.throwIfAborted();
    const mine = await tryCreate(path, options.purpose);
    if (mine !== null) return holdLock(path, mine, staleMs, brokeStaleLock);
    const owner = await readOwner(path);
    if (await isAbandoned(path, owner, staleMs)) {
      const broken = await breakLock(path, owner, staleMs);
      if (broken) brokeStaleLock = owner ?? unknownOwner();
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.(owner);
    }
    await sleep(pollMs + Math.random() * pollMs, options.signal);
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
}

/** Takes the lock if it is free; returns the owner file written, by which the holder knows its own lock. */
async function tryCreate(path: string, purpose: string): Promise<string | null> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return null;
    if (code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    return tryCreate(path, purpose);
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    boot: bootId(),
    ...(startTime(process.pid) !== null && { started: startTime(process.pid) as string }),
    purpose,
    since: new Date().toISOString(),
  };
  const text = JSON.stringify(owner);
  await writeFile(join(path, OWNER_FILE), text);
  return text;
}

/**
 * A holder that went silent for `staleMs` (stopped, its event loop blocked, another host's clock
 * ahead) has its lock broken while it still runs: from then on the lock at `path` is someone
 * else's, which it must neither keep fresh nor remove.
 */
function holdLock(path: string, mine: string, staleMs: number, brokeStaleLock: LockOwner | null): HeldLock {
  const stillMine = () =>
    readFile(join(path, OWNER_FILE), 'utf8').then(
      (text) => text === mine,
      () => false,
    );
  const refresh = setInterval(
    () => {
      const now = new Date();
      stillMine()
        .then((ours) => (ours ? utimes(path, now, now) : undefined))
        .catch(() => {});
    },
    Math.max(100, Math.floor(staleMs / 5)),
  );
  refresh.unref();
  let released = false;
  return {
    brokeStaleLock,
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      if (await stillMine()) await rm(path, { recursive: true, force: true });
    },
  };
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    return JSON.parse(await readFile(join(path, OWNER_FILE), 'utf8')) as LockOwner;
  } catch {
    // Just made and not yet written, or written by a holder killed in between.
    return null;
  }
}

async function isAbandoned(path: string, owner: LockOwner | null, staleMs: number): Promise<boolean> {
  const touched = await stat(path).then(
    (s) => s.mtimeMs,
    () => null,
  );
  // Gone between our mkdir and now: free, not abandoned; the next mkdir decides.
  if (touched === null) return false;
  // On this host the process table is the truth. A holder that is alive but silent (stopped, a
  // blocked event loop, the whole VM paused while waiters' clocks jumped) still holds its lock.
  if (owner && owner.host === hostname()) {
    if (owner.boot !== bootId() || !processAlive(owner.pid)) return true;
    return owner.started !== undefined && startTime(owner.pid) !== owner.started;
  }
  return Date.now() - touched > staleMs;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Removes an abandoned lock, unless another waiter got there first. Breaking is itself done
 * under a short lock, so two waiters that both judged the same lock dead can't remove the
 * fresh lock one of them has just taken.
 */
async function breakLock(path: string, judged: LockOwner | null, staleMs: number): Promise<boolean> {
  const breaker = `${path}.breaking`;
  if ((await tryCreate(breaker, 'breaking a stale lock')) === null) {
    const breakerOwner = await readOwner(breaker);
    if (await isAbandoned(breaker, breakerOwner, Math.min(staleMs, 10_000))) {
      await rm(breaker, { recursive: true, force: true });
    }
    return false;
  }
  try {
    const now = await readOwner(path);
    const same = JSON.stringify(now) === JSON.stringify(judged);
    if (!same || !(await isAbandoned(path, now, staleMs))) return false;
    const graveyard = `${path}.stale-${randomBytes(4).toString('hex')}`;
    await rename(path, graveyard).catch(() => {});
    await rm(graveyard, { recursive: true, force: true });
    return true;
  } finally {
    await rm(breaker, { recursive: true, force: true });
  }
}

/** Alive, and not a zombie: a killed child nobody reaped still answers signal 0. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

let cachedBootId: string | null = null;

function bootId(): string {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = 'unknown';
    }
  }
  return cachedBootId;
}

function unknownOwner(): LockOwner {
  return { pid: 0, host: 'unknown', boot: 'unknown', purpose: 'unknown', since: 'unknown' };
}
