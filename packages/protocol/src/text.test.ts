import { describe, expect, it } from 'vitest';
import { escapeUnsafe, LINE_PATTERN, patternMeaning, quoted, TEXT_PATTERN, WEBHOOK_URL_PATTERN } from './text.ts';

// As TypeBox and JSON Schema validators compile a pattern.
const line = new RegExp(LINE_PATTERN, 'u');
const text = new RegExp(TEXT_PATTERN, 'u');
const webhook = new RegExp(WEBHOOK_URL_PATTERN, 'u');

describe('text patterns', () => {
  it.each([
    ['NUL', '\u0000'],
    ['ESC', '\u001b'],
    ['DEL', '\u007f'],
    ['a C1 control', '\u0085'],
    ['RLO', '\u202e'],
    ['LRE', '\u202a'],
    ['FSI', '\u2068'],
    ['an unpaired high surrogate', '\ud800'],
    ['an unpaired low surrogate', '\udc00'],
  ])('refuse %s in a line and in text', (_, character) => {
    expect(line.test(`a${character}b`)).toBe(false);
    expect(text.test(`a${character}b`)).toBe(false);
  });

  it('take any other text; text takes tabs and line breaks too', () => {
    expect(line.test('fonctionnalité/ünïcode-😀 עברית')).toBe(true);
    expect(line.test('a\tb')).toBe(false);
    expect(text.test('line one\r\n\tline two')).toBe(true);
  });

  it('take webhook URLs without credentials only', () => {
    expect(webhook.test('https://hooks.example.org/in?to=ops@example.org')).toBe(true);
    expect(webhook.test('https://ci:pw@hooks.example.org/in')).toBe(false);
    expect(webhook.test('https://ci@hooks.example.org/in')).toBe(false);
    expect(webhook.test('ftp://hooks.example.org/in')).toBe(false);
    expect(webhook.test('https://hooks.example.org/a b')).toBe(false);
  });

  it('each have a meaning in words', () => {
    for (const pattern of [LINE_PATTERN, TEXT_PATTERN, WEBHOOK_URL_PATTERN])
      expect(patternMeaning(pattern)).not.toBeNull();
  });
});

describe('quoted', () => {
  it('quotes a value with its controls and bidi overrides escaped', () => {
    expect(quoted('ma\u0000in\u202e')).toBe('"ma\\u0000in\\u202e"');
    expect(escapeUnsafe('a\u0085b')).toBe('a\\u0085b');
  });

  it('cuts a long value to 100 characters with an ellipsis', () => {
    expect(quoted('x'.repeat(1024 * 1024))).toBe(`"${'x'.repeat(100)}…"`);
    expect(quoted('x'.repeat(100))).toBe(`"${'x'.repeat(100)}"`);
  });
});
