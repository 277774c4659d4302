import type { Worker } from '@switchyard/protocol';
import { formatAge } from './age.ts';
import { formatState } from './states.ts';
import type { Style } from './style.ts';
import { formatTable } from './table.ts';

/** The workers: their pool, whether they are busy and with which job, and when they were last heard from. */
export function formatWorkerTable(workers: readonly Worker[], style: Style, now: Date = new Date()): string {
  if (workers.length === 0) return style('dim', 'no workers have connected yet');
  const rows = workers.map((worker) => [
    worker.name,
    worker.pool,
    worker.benchedUntil === null ? formatState(worker.state, style) : `${formatState(worker.state, style)}, benched`,
    worker.currentJob ?? '',
    worker.speed === null ? '' : `${worker.speed.toFixed(2)}×`,
    worker.warm[0] ? `${worker.warm[0].builder}@${worker.warm[0].branch}` : '',
    formatAge(worker.lastSeen, now),
  ]);
  return formatTable(['WORKER', 'POOL', 'STATE', 'JOB', 'SPEED', 'WARM', 'LAST SEEN'], rows, style);
}
