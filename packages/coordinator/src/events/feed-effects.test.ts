import { describe, expect, it } from 'vitest';
import { type FeedEffectTargets, feedEffects } from './feed-effects.ts';
import { type LoggedEvent, toLoggedEvent } from './logged-event.ts';

const job = { id: 7, pushId: 3, repo: 'demo', branch: 'main', builder: 'linux-build', pool: 'linux', state: 'running' };

function logged(id: number, type: string, data: Record<string, unknown>): LoggedEvent {
  return toLoggedEvent({
    id,
    type,
    created_at: 0,
    repo: 'demo',
    branch: 'main',
    builder: 'linux-build',
    job_id: job.id,
    push_id: job.pushId,
    data: JSON.stringify({ job, ...data }),
  });
}

const stepFinished = (id: number, attempt: number, index: number) =>
  logged(id, 'step.finished', { attempt, step: { index, state: 'success' } });
const attemptFinished = (id: number, attempt: number, state: string) =>
  logged(id, 'attempt.finished', { attempt: { id: 40 + attempt, number: attempt, state } });

/** Feed effects over targets that record what they were asked to do. */
function recorded(committedHere: (id: number) => boolean) {
  const calls: string[] = [];
  const targets: FeedEffectTargets = {
    broker: { offer: (pools) => calls.push(`offer ${[...pools]}`) },
    activity: {
      jobChanged: () => {},
      attemptChanged: (id: number) => calls.push(`attemptChanged ${id}`),
      attemptCancelled: (id: number) => calls.push(`attemptCancelled ${id}`),
    } as unknown as FeedEffectTargets['activity'],
    logs: {
      attemptComplete: (id) => calls.push(`compact attempt ${id}`),
      attemptCompleteLater: (id, ms) => calls.push(`compact attempt ${id} after ${ms} ms`),
      stepCompleteOf: (jobId, attempt, step) => calls.push(`compact step ${jobId}/${attempt}/${step}`),
    },
    webhooks: { refresh: async () => {}, kick: () => {} },
    metrics: { events: { inc: () => {} } } as unknown as FeedEffectTargets['metrics'],
    committedHere,
    leaseMs: () => 30_000,
    onError: (error) => {
      throw error;
    },
  };
  return { apply: feedEffects(targets), calls };
}

describe('feed effects', () => {
  it('compacts a finished attempt where its end was committed, its steps with it', () => {
    const { apply, calls } = recorded(() => true);
    apply([stepFinished(1, 1, 0), attemptFinished(2, 1, 'success')]);
    expect(calls).toEqual(['attemptChanged 41', 'compact attempt 41']);
  });

  it('leaves a log whose end another coordinator committed to that coordinator (and the sweeps)', () => {
    const { apply, calls } = recorded(() => false);
    apply([stepFinished(1, 1, 0), attemptFinished(2, 1, 'success'), stepFinished(3, 2, 0)]);
    expect(calls).toEqual(['attemptChanged 41']);
  });

  it('compacts a step finished here while its attempt runs on', () => {
    const { apply, calls } = recorded((id) => id === 5);
    apply([stepFinished(4, 1, 0), stepFinished(5, 1, 1)]);
    expect(calls).toEqual(['compact step 7/1/1']);
  });

  it('tells every coordinator of a cancelled attempt, and compacts it after the lease where it was cancelled', () => {
    const here = recorded(() => true);
    here.apply([attemptFinished(2, 1, 'cancelled')]);
    expect(here.calls).toEqual(['attemptChanged 41', 'attemptCancelled 41', 'compact attempt 41 after 30000 ms']);
    const elsewhere = recorded(() => false);
    elsewhere.apply([attemptFinished(2, 1, 'cancelled')]);
    expect(elsewhere.calls).toEqual(['attemptChanged 41', 'attemptCancelled 41']);
  });

  it('offers pending work to the waiting workers of every coordinator', () => {
    const { apply, calls } = recorded(() => false);
    apply([logged(9, 'job.pending', {}), logged(10, 'job.pending', {})]);
    expect(calls).toEqual(['offer linux']);
  });
});
