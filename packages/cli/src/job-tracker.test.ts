import { describe, expect, test } from 'vitest';
import { JobTracker } from './job-tracker.ts';
import { makeEvent, makeJob } from './testing/fixtures.ts';

const summary = (id: number, state: 'pending' | 'waiting' | 'success' = 'pending') => ({
  id,
  builder: `builder-${id}`,
  state,
  attemptCount: 0,
});
const finished = (id: number, state: 'success' | 'failure') =>
  makeEvent('job.finished', { job: makeJob({ id, state }) });

async function isSettled(tracker: JobTracker): Promise<boolean> {
  return Promise.race([
    tracker.settled.then(() => true),
    new Promise<boolean>((resolve) => setImmediate(resolve, false)),
  ]);
}

describe('JobTracker', () => {
  test('settles once sealed and every expected job is final', async () => {
    const tracker = new JobTracker();
    tracker.expect([summary(1), summary(2, 'waiting')]);
    tracker.seal();
    tracker.observe(finished(1, 'success'));
    expect(await isSettled(tracker)).toBe(false);
    tracker.observe(finished(2, 'success'));
    expect(await isSettled(tracker)).toBe(true);
    expect(tracker.expectedStates()).toEqual(['success', 'success']);
    expect(tracker.allSucceeded).toBe(true);
  });

  test('does not settle before it is sealed: more jobs may come', async () => {
    const tracker = new JobTracker();
    tracker.expect([summary(1)]);
    tracker.observe(finished(1, 'success'));
    expect(await isSettled(tracker)).toBe(false);
    tracker.seal();
    expect(await isSettled(tracker)).toBe(true);
  });

  test('remembers a job that finished before it was expected', async () => {
    const tracker = new JobTracker();
    tracker.observe(finished(7, 'failure'));
    tracker.expect([summary(7)]);
    tracker.seal();
    expect(await isSettled(tracker)).toBe(true);
    expect(tracker.expectedStates()).toEqual(['failure']);
    expect(tracker.allSucceeded).toBe(false);
  });

  test('ignores jobs it does not expect, and events without a job', async () => {
    const tracker = new JobTracker();
    tracker.expect([summary(1)]);
    tracker.seal();
    tracker.observe(finished(2, 'success'));
    tracker.observe(makeEvent('config.reloaded', { repos: 1, builders: 3 }));
    expect(await isSettled(tracker)).toBe(false);
  });

  test('with nothing to wait for it settles at once', async () => {
    const tracker = new JobTracker();
    tracker.seal();
    expect(await isSettled(tracker)).toBe(true);
    expect(tracker.allSucceeded).toBe(true);
  });
});
