import type { Job, Push, SwitchyardEvent } from '@switchyard/protocol/browser';
import { describe, expect, it } from 'vitest';
import { applyEvents } from './apply-events.ts';

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

describe('applyEvents', () => {
  const start = [push(2, 'main', [{ id: 3, builder: 'build', state: 'pending', attemptCount: 1 }]), push(1)];

  it('puts a new matching push on top, and leaves out one the filter excludes', () => {
    const after = applyEvents(
      start,
      [event('push.created', { push: push(3) }), event('push.created', { push: push(4, 'try') })],
      { branch: 'main' },
    );
    expect(after.map((p) => p.id)).toEqual([3, 2, 1]);
  });

  it('recolours a job and adds a retriggered one', () => {
    const after = applyEvents(
      start,
      [event('job.started', { job: job(3, 2, 'running') }), event('job.pending', { job: job(9, 2, 'pending') })],
      {},
    );
    expect(after[0]?.jobs.map((j) => [j.id, j.state])).toEqual([
      [3, 'running'],
      [9, 'pending'],
    ]);
    expect(after[1]).toBe(start[1]);
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
});
