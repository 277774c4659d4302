import { describe, expect, test } from 'vitest';
import { makeWorker } from '../testing/fixtures.ts';
import { plainStyle } from './style.ts';
import { formatWorkerTable } from './worker-table.ts';

describe('formatWorkerTable', () => {
  test('shows each worker with its pool, state, job and when it was last heard from', () => {
    const workers = [
      makeWorker({
        speed: 0.8,
        warm: [{ repo: 'demo', builder: 'build', branch: 'main', at: '2025-01-02T08:59:00.000Z' }],
      }),
      makeWorker({
        name: 'mac-mini-2',
        pool: 'macos',
        state: 'offline',
        currentJob: null,
        lastSeen: '2025-01-01T09:00:00.000Z',
      }),
    ];
    expect(formatWorkerTable(workers, plainStyle, new Date('2025-01-02T09:00:05.000Z')).split('\n')).toEqual([
      'WORKER      POOL   STATE    JOB  SPEED  WARM        LAST SEEN',
      'w1          linux  busy     12   0.80×  build@main  5 s ago',
      'mac-mini-2  macos  offline                          1 d ago',
    ]);
  });

  test('marks a benched worker', () => {
    const [, row] = formatWorkerTable(
      [makeWorker({ state: 'idle', currentJob: null, benchedUntil: '2025-01-02T09:01:00.000Z' })],
      plainStyle,
      new Date('2025-01-02T09:00:05.000Z'),
    ).split('\n');
    expect(row).toContain('idle, benched');
  });

  test('says so when no worker has connected', () => {
    expect(formatWorkerTable([], plainStyle)).toBe('no workers have connected yet');
  });
});
