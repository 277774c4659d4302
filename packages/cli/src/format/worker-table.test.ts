import { describe, expect, test } from 'vitest';
import { makeWorker } from '../testing/fixtures.ts';
import { plainStyle } from './style.ts';
import { formatWorkerTable } from './worker-table.ts';

describe('formatWorkerTable', () => {
  test('shows each worker with its pool, state, job and when it was last heard from', () => {
    const workers = [
      makeWorker(),
      makeWorker({
        name: 'mac-mini-2',
        pool: 'macos',
        state: 'offline',
        currentJob: null,
        lastSeen: '2025-01-01T09:00:00.000Z',
      }),
    ];
    expect(formatWorkerTable(workers, plainStyle, new Date('2025-01-02T09:00:05.000Z')).split('\n')).toEqual([
      'WORKER      POOL   STATE    JOB  LAST SEEN',
      'w1          linux  busy     12   5 s ago',
      'mac-mini-2  macos  offline       1 d ago',
    ]);
  });

  test('says so when no worker has connected', () => {
    expect(formatWorkerTable([], plainStyle)).toBe('no workers have connected yet');
  });
});
