import { describe, expect, it } from 'vitest';
import type { ReplicaRecord } from '../store/port.ts';
import { readinessProblems, renewLeasesAtStart, replicaListView, replicaState } from './replica-status.ts';

const NOW = 1_000_000;
const WINDOW = 15_000;
const replica = (id: string, lastSeen: number, stoppedAt: number | null = null): ReplicaRecord => ({
  id,
  hostname: 'h',
  pid: 1,
  url: null,
  version: '1',
  startedAt: 0,
  lastSeen,
  stoppedAt,
});

describe('replicaState', () => {
  it('is alive while seen within the window, stopped once closed, dead otherwise', () => {
    expect(replicaState(replica('a', NOW - WINDOW), NOW, WINDOW)).toBe('alive');
    expect(replicaState(replica('a', NOW - WINDOW - 1), NOW, WINDOW)).toBe('dead');
    expect(replicaState(replica('a', NOW, NOW), NOW, WINDOW)).toBe('stopped');
  });
});

describe('renewLeasesAtStart', () => {
  it('renews when the whole farm was down: no replica but this one is alive', () => {
    expect(renewLeasesAtStart([], 'me', NOW, WINDOW)).toBe(true);
    expect(
      renewLeasesAtStart(
        [replica('me', NOW), replica('old', NOW - WINDOW - 1), replica('gone', NOW - 5, NOW - 5)],
        'me',
        NOW,
        WINDOW,
      ),
    ).toBe(true);
  });

  it('leaves leases alone while another replica is alive: workers heartbeat through it', () => {
    expect(renewLeasesAtStart([replica('me', NOW), replica('b', NOW - 1000)], 'me', NOW, WINDOW)).toBe(false);
  });
});

describe('readinessProblems', () => {
  const feed = { running: true, lastReadAt: 5000 };
  it('is ready with a reachable store and a feed that read within three polls', () => {
    expect(readinessProblems({ storeError: null, feed, feedPollMs: 1000, now: 8000 })).toEqual([]);
  });

  it('says what is wrong: the store, a stopped feed, a feed that stopped reading', () => {
    expect(readinessProblems({ storeError: 'ECONNREFUSED', feed, feedPollMs: 1000, now: 5000 })).toEqual([
      'the store is unreachable: ECONNREFUSED',
    ]);
    expect(
      readinessProblems({ storeError: null, feed: { running: false, lastReadAt: 5000 }, feedPollMs: 1000, now: 5000 }),
    ).toEqual(['the change feed is not running']);
    expect(readinessProblems({ storeError: null, feed, feedPollMs: 1000, now: 8001 })).toEqual([
      'the change feed has not read the event log for 3000 ms',
    ]);
  });
});

describe('replicaListView', () => {
  it('shows each replica’s state and the singletons whose unexpired lease it holds', () => {
    const view = replicaListView(
      {
        now: NOW,
        replicas: [replica('a', NOW), replica('b', NOW - WINDOW - 1)],
        singletons: [
          { name: 'webhooks', holder: 'a', term: 2, expiresAt: NOW + 1, acquiredAt: 0 },
          { name: 'amqp-publisher', holder: 'b', term: 5, expiresAt: NOW - 1, acquiredAt: 0 },
        ],
      },
      'a',
      WINDOW,
    );
    expect(view.replicas).toMatchObject([
      { id: 'a', state: 'alive', self: true, singletons: ['webhooks'] },
      { id: 'b', state: 'dead', self: false, singletons: [] },
    ]);
    expect(view.singletons).toMatchObject([
      { name: 'webhooks', held: true },
      { name: 'amqp-publisher', held: false, term: 5 },
    ]);
  });
});
