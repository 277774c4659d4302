import { describe, expect, test } from 'vitest';
import { colorStyle, plainStyle, styleFor } from './style.ts';

const terminal = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('styleFor', () => {
  test('colours a terminal', () => {
    expect(styleFor(terminal, {})).toBe(colorStyle);
  });

  test('never colours a pipe or a file', () => {
    expect(styleFor(pipe, {})).toBe(plainStyle);
  });

  test('honours NO_COLOR, unless it is empty', () => {
    expect(styleFor(terminal, { NO_COLOR: '1' })).toBe(plainStyle);
    expect(styleFor(terminal, { NO_COLOR: '' })).toBe(colorStyle);
  });

  test('the colour style colours even when the test runner is not a terminal', () => {
    expect(colorStyle('bold', 'x')).toBe('\u001b[1mx\u001b[22m');
    expect(plainStyle('bold', 'x')).toBe('x');
  });
});
