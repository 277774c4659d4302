import { describe, expect, test } from 'vitest';
import { makeJob } from '../testing/fixtures.ts';
import { authorName, formatJobLabel, formatRef, shortRevision } from './labels.ts';

describe('labels', () => {
  test('a revision is shortened to seven characters', () => {
    expect(shortRevision('abc1234def5678')).toBe('abc1234');
  });

  test('a ref names the repository, branch and short revision', () => {
    expect(formatRef({ repo: 'demo', branch: 'release/1.0', revision: 'abc1234def5678' })).toBe(
      'demo/release/1.0@abc1234',
    );
  });

  test('a job label is enough to recognise the job', () => {
    expect(formatJobLabel(makeJob())).toBe('job 12 build-linux demo/main@abc1234');
  });

  test('an author is shown by name', () => {
    expect(authorName('Ada Lovelace <ada@example.com>')).toBe('Ada Lovelace');
    expect(authorName('ada')).toBe('ada');
    expect(authorName('<ada@example.com>')).toBe('<ada@example.com>');
  });
});
