import { describe, expect, it } from 'vitest';
import { LazyOrder } from './lazy-order.ts';

describe('LazyOrder', () => {
  it('yields items in order as far as they are read, then undefined', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    const order = new LazyOrder(values, (a, b) => a < b);
    expect([0, 1, 2].map((i) => order.at(i))).toEqual([0, 1, 2]);
    const all = Array.from({ length: 1000 }, (_, i) => order.at(i));
    expect(all).toEqual([...values].sort((a, b) => a - b));
    expect(order.at(1000)).toBeUndefined();
    expect(new LazyOrder<number>([], (a, b) => a < b).at(0)).toBeUndefined();
  });
});
