import { describe, expect, it } from 'vitest';
import { pushResultOf, statesBefore } from './push-result.ts';
import type { JobState } from './states.ts';

const job = (id: number, builder: string, state: JobState) => ({ id, builder, state });

describe('pushResultOf', () => {
  it('says the worst, judging a retriggered builder by its newest job', () => {
    expect(pushResultOf([job(1, 'build', 'success'), job(2, 'test', 'failure')])).toBe('failure');
    expect(pushResultOf([job(1, 'build', 'success'), job(2, 'test', 'failure'), job(3, 'test', 'success')])).toBe(
      'success',
    );
    expect(pushResultOf([job(1, 'build', 'running'), job(2, 'test', 'waiting')])).toBe('running');
    expect(pushResultOf([job(1, 'build', 'failure'), job(2, 'test', 'running')])).toBe('failure');
    expect(pushResultOf([job(1, 'build', 'success'), job(2, 'test', 'coalesced')])).toBe('coalesced');
    expect(pushResultOf([])).toBe('empty');
  });

  it('names the states that hide a result', () => {
    expect(statesBefore('failure')).toEqual([]);
    expect(statesBefore('running')).toEqual(['failure', 'exception']);
    expect(statesBefore('success')).toEqual([
      'failure',
      'exception',
      'running',
      'pending',
      'waiting',
      'cancelled',
      'skipped',
      'coalesced',
    ]);
  });
});
