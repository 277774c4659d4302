import { describe, expect, it } from 'vitest';
import { workerProtocolRefusal } from './worker-protocol.ts';

describe('workerProtocolRefusal', () => {
  it('takes the current protocol and the one before, and a claim without the header as protocol 1', () => {
    expect(workerProtocolRefusal('5', 5)).toBeUndefined();
    expect(workerProtocolRefusal('4', 5)).toBeUndefined();
    expect(workerProtocolRefusal(undefined, 2)).toBeUndefined();
  });

  it('refuses older workers as worker-too-old, saying which protocols it takes', () => {
    const refusal = workerProtocolRefusal('3', 5);
    expect(refusal?.code).toBe('worker-too-old');
    expect(refusal?.status).toBe(400);
    expect(refusal?.message).toMatch(/speaks worker protocol 3; .* takes worker protocols 4 and 5: upgrade the worker/);
    expect(refusal?.details).toEqual({ workerProtocol: 3, accepted: [4, 5] });
    expect(workerProtocolRefusal(undefined, 3)?.code).toBe('worker-too-old');
  });

  it('refuses newer workers as worker-too-new: the coordinators are upgraded first', () => {
    const refusal = workerProtocolRefusal('6', 5);
    expect(refusal?.code).toBe('worker-too-new');
    expect(refusal?.message).toMatch(/upgrade the coordinators before the workers/);
  });

  it('refuses a header that is not one whole number as invalid-request', () => {
    for (const header of ['', 'two', '2.0', '-1', '02', ' 2', ['2', '2']]) {
      expect(workerProtocolRefusal(header, 5)?.code, String(header)).toBe('invalid-request');
    }
  });
});
