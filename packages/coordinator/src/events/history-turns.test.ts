import { describe, expect, it } from 'vitest';
import { HistoryTurns } from './history-turns.ts';

/** A clock the test moves: each read "takes" 5 ms of it. */
function clock() {
  let now = 0;
  return { now: () => now, spend: (ms: number) => (now += ms) };
}

describe('HistoryTurns', () => {
  it('serves reads one at a time in arrival order and hands the loop back once the budget is spent', async () => {
    const time = clock();
    const turns = new HistoryTurns(10, time.now);
    const order: string[] = [];
    let reading = 0;
    let mostAtOnce = 0;
    const read = (name: string) =>
      turns.run(async () => {
        reading += 1;
        mostAtOnce = Math.max(mostAtOnce, reading);
        await Promise.resolve();
        time.spend(5);
        order.push(name);
        reading -= 1;
        return name;
      });
    const reads = ['r1', 'r2', 'r3', 'r4', 'r5'].map(read);
    // Something else that needs the event loop, such as an API request arriving.
    setImmediate(() => order.push('request'));
    expect(await Promise.all(reads)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(order).toEqual(['r1', 'r2', 'request', 'r3', 'r4', 'r5']);
    expect(mostAtOnce).toBe(1);
  });

  it('lets reads that need no store read go first, then one read per batch with its group right behind it', async () => {
    const turns = new HistoryTurns();
    const order: string[] = [];
    const read = (name: string, batch: number | null) =>
      turns.run(async () => {
        order.push(name);
      }, batch);
    await Promise.all([
      read('a at batch 7', 7),
      read('b at batch 3', 3),
      read('c from memory', null),
      read('d at batch 7', 7),
      read('e at batch 3', 3),
      read('f cached', null),
    ]);
    // a went at once (nothing was waiting); then the reads that needed no store read; then the
    // groups waiting for the store in the order they formed: batch 3 (b, e), then batch 7 again
    // (d came after a had left with it; in the coordinator d would have found it cached).
    expect(order).toEqual([
      'a at batch 7',
      'c from memory',
      'f cached',
      'b at batch 3',
      'e at batch 3',
      'd at batch 7',
    ]);
  });

  it('rejects only the read that failed; the next one still runs', async () => {
    const turns = new HistoryTurns();
    const failing = turns.run(() => Promise.reject(new Error('store away')));
    const next = turns.run(async () => 'read');
    await expect(failing).rejects.toThrow('store away');
    expect(await next).toBe('read');
  });
});
