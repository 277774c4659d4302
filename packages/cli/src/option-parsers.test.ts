import { InvalidArgumentError } from 'commander';
import { describe, expect, test } from 'vitest';
import { collectTag, parseId, parseList, parseServerUrl, wholeNumber } from './option-parsers.ts';

describe('wholeNumber', () => {
  const port = wholeNumber(0, 65535);

  test('accepts whole numbers in range', () => {
    expect(port('0')).toBe(0);
    expect(port('7420')).toBe(7420);
    expect(parseId('12')).toBe(12);
  });

  test.each(['-1', '65536', '1.5', '', 'abc', '7e3'])('refuses %j with what it expected', (value) => {
    expect(() => port(value)).toThrow(new InvalidArgumentError('expected a whole number, 0 to 65535.'));
  });

  test('an id starts at 1', () => {
    expect(() => parseId('0')).toThrow('expected a whole number from 1.');
  });
});

describe('parseServerUrl', () => {
  test('accepts http and https URLs as given', () => {
    expect(parseServerUrl('http://127.0.0.1:7420')).toBe('http://127.0.0.1:7420');
    expect(parseServerUrl('https://farm.example.com/')).toBe('https://farm.example.com/');
  });

  test.each(['farm:7420', '127.0.0.1:7420', 'ftp://farm', ''])('refuses %j', (value) => {
    expect(() => parseServerUrl(value)).toThrow('expected an http:// or https:// URL');
  });
});

describe('collectTag', () => {
  test('collects repeated key=value tags into one record; a value may hold = or be empty', () => {
    const tags = ['os=linux', 'cpu=x86_64', 'opts=a=b', 'empty='].reduce((all, tag) => collectTag(tag, all), {});
    expect(tags).toEqual({ os: 'linux', cpu: 'x86_64', opts: 'a=b', empty: '' });
  });

  test.each(['linux', '=linux', 'my key=1'])('refuses %j, showing the expected form', (value) => {
    expect(() => collectTag(value, {})).toThrow('expected key=value, e.g. --tag os=linux.');
  });
});

describe('parseList', () => {
  test('splits on commas and drops blanks', () => {
    expect(parseList('job.finished, worker.connected,,')).toEqual(['job.finished', 'worker.connected']);
  });
});
