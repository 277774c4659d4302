import { JOB_STATES } from '@switchyard/protocol';
import { describe, expect, test } from 'vitest';
import { formatState, summarizeStates } from './states.ts';
import { colorStyle, plainStyle } from './style.ts';

describe('formatState', () => {
  test.each([
    ['success', '\u001b[32msuccess\u001b[39m'],
    ['failure', '\u001b[31mfailure\u001b[39m'],
    ['exception', '\u001b[35mexception\u001b[39m'],
    ['running', '\u001b[33mrunning\u001b[39m'],
    ['pending', '\u001b[2mpending\u001b[22m'],
    ['waiting', '\u001b[2mwaiting\u001b[22m'],
    ['cancelled', '\u001b[90mcancelled\u001b[39m'],
    ['skipped', '\u001b[90mskipped\u001b[39m'],
  ])('%s has its colour', (state, colored) => {
    expect(formatState(state, colorStyle)).toBe(colored);
  });

  test('without colour, or for a state it does not know, the state is left as it is', () => {
    expect(formatState('failure', plainStyle)).toBe('failure');
    expect(formatState('teleported', colorStyle)).toBe('teleported');
  });
});

describe('summarizeStates', () => {
  test('counts each state, in the order of the lifecycle', () => {
    const states = ['success', 'running', 'success', 'waiting', 'failure'];
    expect(summarizeStates(states, JOB_STATES, plainStyle)).toBe('1 waiting, 1 running, 2 success, 1 failure');
  });

  test('states outside the order come last', () => {
    expect(summarizeStates(['unheard-of', 'success'], JOB_STATES, plainStyle)).toBe('1 success, 1 unheard-of');
  });

  test('says so when there are no jobs', () => {
    expect(summarizeStates([], JOB_STATES, plainStyle)).toBe('no jobs');
  });
});
