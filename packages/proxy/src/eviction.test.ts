import { expect, test } from 'vitest';
import { chooseEvictions } from './eviction.ts';

const entries = [
  { id: 'oldest', size: 30 },
  { id: 'older', size: 30 },
  { id: 'newer', size: 30 },
];

test('nothing goes while the incoming bytes fit', () => {
  expect(chooseEvictions(entries, { usedBytes: 90, incomingBytes: 10, maxBytes: 100, headroom: 0.1 })).toEqual([]);
});

test('least recently used go first, down to the bound less the headroom', () => {
  expect(chooseEvictions(entries, { usedBytes: 90, incomingBytes: 20, maxBytes: 100, headroom: 0.1 })).toEqual([
    'oldest',
  ]);
  expect(chooseEvictions(entries, { usedBytes: 90, incomingBytes: 20, maxBytes: 100, headroom: 0.5 })).toEqual([
    'oldest',
    'older',
  ]);
});

test('when everything must go, everything goes', () => {
  expect(chooseEvictions(entries, { usedBytes: 90, incomingBytes: 200, maxBytes: 100, headroom: 0 })).toEqual([
    'oldest',
    'older',
    'newer',
  ]);
});
