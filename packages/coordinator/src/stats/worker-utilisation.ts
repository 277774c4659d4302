import type { WorkerUtilisation } from '@switchyard/protocol';
import { groupBy, type Window, windowView } from './distribution.ts';

export interface WorkerPresence {
  name: string;
  pool: string;
  firstSeen: number;
  lastSeen: number;
  online: boolean;
}

export interface AttemptSpan {
  worker: string;
  startedAt: number;
  /** null: still running. */
  finishedAt: number | null;
}

const overlap = (start: number, end: number, window: Window) =>
  Math.max(0, Math.min(end, window.to) - Math.max(start, window.from));

/**
 * The share of its time in the window each worker spent running attempts. A worker is counted
 * from when it was first seen until now while online, or until it was last seen once offline.
 */
export function workerUtilisation(
  workers: readonly WorkerPresence[],
  attempts: readonly AttemptSpan[],
  window: Window,
): WorkerUtilisation {
  const byWorker = groupBy(attempts, (attempt) => attempt.worker);
  const rows = workers
    .map((worker) => {
      const availableMs = overlap(worker.firstSeen, worker.online ? window.to : worker.lastSeen, window);
      const mine = (byWorker.get(worker.name) ?? []).filter(
        (a) => overlap(a.startedAt, a.finishedAt ?? window.to, window) > 0,
      );
      const busyMs = Math.min(
        availableMs,
        mine.reduce((sum, a) => sum + overlap(a.startedAt, a.finishedAt ?? window.to, window), 0),
      );
      return {
        name: worker.name,
        pool: worker.pool,
        attempts: mine.length,
        busyMs,
        availableMs,
        utilisation: availableMs === 0 ? null : round(busyMs / availableMs),
      };
    })
    .filter((row) => row.availableMs > 0 || row.attempts > 0)
    .sort((a, b) => a.pool.localeCompare(b.pool) || a.name.localeCompare(b.name));
  const pools = [...groupBy(rows, (row) => row.pool).entries()].map(([pool, members]) => {
    const available = members.reduce((sum, row) => sum + row.availableMs, 0);
    const busy = members.reduce((sum, row) => sum + row.busyMs, 0);
    return { pool, workers: members.length, utilisation: available === 0 ? null : round(busy / available) };
  });
  return { window: windowView(window), workers: rows, pools };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
