import { describe, expect, it } from 'vitest';
import { logSearch, pushesSearch } from './search-params.ts';

describe('search parameters', () => {
  it('keeps what it can read and drops the rest', () => {
    expect(pushesSearch({ repo: 'demo', branch: ' ', push: '12', result: 'failure', author: 7 })).toEqual({
      repo: 'demo',
      branch: undefined,
      author: '7',
      revision: undefined,
      result: 'failure',
      push: 12,
    });
    expect(pushesSearch({ revision: 'xyz', result: 'green' })).toMatchObject({
      revision: undefined,
      result: undefined,
    });
    expect(pushesSearch({ revision: 'ABC12', result: 'empty' })).toMatchObject({ revision: 'ABC12', result: 'empty' });
    expect(logSearch({ attempt: '0', q: 'error' })).toEqual({ attempt: undefined, q: 'error' });
  });
});
