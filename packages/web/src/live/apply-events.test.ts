import type { Job, Push, SwitchyardEvent } from '@switchyard/protocol/browser';
import { describe, expect, it } from 'vitest';
import { applyEvents, keepNewest, matchesFilter, type PushListData, readBefore } from './apply-events.ts';

const push = (id: number, branch = 'main', jobs: Push['jobs'] = []): Push => ({
  id,
  repo: 'demo',
  branch,
  revision: `${id}`.padStart(7, 'a'),
  author: 'Ada',
  message: '',
  files: [],
  createdAt: '2026-01-01T00:00:00Z',
  jobs,
});

const job = (id: number, pushId: number, state: Job['state'], builder = 'build'): Job =>
  ({ id, pushId, builder, state, attemptCount: 1 }) as Job;

let nextId = 1;
const event = (type: SwitchyardEvent['type'], data: unknown): SwitchyardEvent =>
  ({ id: nextId++, type, time: '', routingKey: '', data }) as SwitchyardEvent;

const ids = (data: PushListData) => data.pushes.map((p) => p.id);

describe('applyEvents', () => {
  const start: PushListData = {
    pushes: [push(2, 'main', [{ id: 3, builder: 'build', state: 'pending', attemptCount: 1 }]), push(1)],
    next: null,
    cursor: 0,
  };

  it('puts a new matching push on top, and leaves out one the filter excludes', () => {
    const after = applyEvents(
      start,
      [
        event('push.created', { push: push(3) }),
        event('push.created', { push: push(4, 'try') }),
        event('push.created', { push: { ...push(5), author: 'Bob' } }),
      ],
      { branch: 'main', author: 'ADA' },
    );
    expect(ids(after)).toEqual([3, 2, 1]);
  });

  it('recolours a job and adds a retriggered one', () => {
    const after = applyEvents(
      start,
      [event('job.started', { job: job(3, 2, 'running') }), event('job.pending', { job: job(9, 2, 'pending') })],
      {},
    );
    expect(after.pushes[0]?.jobs.map((j) => [j.id, j.state])).toEqual([
      [3, 'running'],
      [9, 'pending'],
    ]);
    expect(after.pushes[1]).toBe(start.pushes[1]);
  });

  it('returns the same list when nothing shown changed', () => {
    expect(applyEvents(start, [event('job.pending', { job: job(3, 2, 'pending') })], {})).toBe(start);
    expect(applyEvents(start, [event('job.started', { job: job(50, 77, 'running') })], {})).toBe(start);
    expect(applyEvents(start, [event('worker.connected', {})], {})).toBe(start);
  });

  it('is idempotent: an event seen twice (a replay after resume) changes nothing more', () => {
    const events = [event('push.created', { push: push(3) }), event('job.started', { job: job(3, 2, 'running') })];
    const once = applyEvents(start, events, {});
    expect(applyEvents(once, events, {})).toBe(once);
  });

  it('filtered by result: keeps new pushes that may come to match, and takes in one that completes matching', () => {
    const failed = push(20, 'main', [{ id: 40, builder: 'build', state: 'failure', attemptCount: 1 }]);
    const list: PushListData = { pushes: [failed], next: 10, cursor: 0 };
    const filter = { result: 'failure' } as const;
    const created = push(30, 'main', [{ id: 60, builder: 'build', state: 'pending', attemptCount: 0 }]);
    const after = applyEvents(list, [event('push.created', { push: created })], filter);
    expect(ids(after)).toEqual([30, 20]);
    expect(after.pushes.filter((p) => matchesFilter(p, filter)).map((p) => p.id)).toEqual([20]);
    const failing = applyEvents(after, [event('job.finished', { job: job(60, 30, 'failure') })], filter);
    expect(failing.pushes.filter((p) => matchesFilter(p, filter)).map((p) => p.id)).toEqual([30, 20]);

    // A push read before it failed, then completed: in the range read (newer than `next`), or not.
    const completed = (id: number) => ({
      push: push(id, 'main', [{ id: id * 2, builder: 'build', state: 'failure', attemptCount: 1 }]),
    });
    const withCompleted = applyEvents(
      failing,
      [event('push.completed', completed(15)), event('push.completed', completed(5))],
      filter,
    );
    expect(ids(withCompleted)).toEqual([30, 20, 15]);
  });
});

describe('readBefore', () => {
  it('says whether a list may lack events from before the stream started', () => {
    const list: PushListData = { pushes: [], next: null, cursor: 40 };
    expect(readBefore(list, 40)).toBe(false);
    expect(readBefore(list, 39)).toBe(false);
    expect(readBefore(list, 41)).toBe(true);
    expect(readBefore(undefined, 41)).toBe(true);
    expect(readBefore(list, undefined)).toBe(true);
  });
});

describe('keepNewest', () => {
  it('cuts the list and moves the next page to start after the last push kept', () => {
    const data: PushListData = { pushes: [push(9), push(8), push(7)], next: 6, cursor: 40 };
    expect(keepNewest(data, 3)).toBe(data);
    expect(keepNewest(data, 2)).toEqual({ pushes: [push(9), push(8)], next: 8, cursor: 40 });
  });
});
