import { describe, expect, it } from 'vitest';
import { compileErrorPatterns, DEFAULT_ERROR_PATTERNS, patternProblem } from './error-patterns.ts';
import { stripAnsi } from './strip-ansi.ts';

const isError = (line: string) => compileErrorPatterns(DEFAULT_ERROR_PATTERNS).test(stripAnsi(line));

describe('the default error patterns', () => {
  it.each([
    'src/main.c:12:5: error: expected ‘;’ before ‘}’ token',
    'error[E0308]: mismatched types',
    'src/app.ts(3,7): error TS2322: Type string is not assignable',
    'FAIL src/parser.test.ts > parses a push',
    '--- FAIL: TestClaim (0.01s)',
    'tests/test_app.py::test_login FAILED                 [ 50%]',
    'not ok 3 - retries after a lost worker',
    'TEST-UNEXPECTED-FAIL | dom/test_events.html | timed out',
    'Traceback (most recent call last):',
    'ValueError: invalid literal for int()',
    'AssertionError: expected 2 to equal 3',
    "thread 'main' panicked at src/lib.rs:10:5",
    'make: *** [Makefile:12: all] Error 2',
    'make[2]: *** [obj/foo.o] Error 1',
    'npm ERR! code ELIFECYCLE',
    '\x1b[31mFAIL\x1b[0m  build/check.sh',
  ])('finds %s', (line) => {
    expect(isError(line)).toBe(true);
  });

  it.each([
    'compiling src/error.c',
    'warning: unused variable `errors`',
    '0 errors, 2 warnings',
    'PASS src/parser.test.ts',
    'ok 2 - claims a job',
    'Retrying after error handling test',
  ])('passes over %s', (line) => {
    expect(isError(line)).toBe(false);
  });

  it('takes a configured list instead', () => {
    const custom = compileErrorPatterns(['^BROKEN:', 'oops']);
    expect(custom.test('BROKEN: the widget')).toBe(true);
    expect(custom.test('an oops happened')).toBe(true);
    expect(custom.test('FAIL something')).toBe(false);
  });

  it('names an invalid pattern', () => {
    expect(patternProblem('(unclosed')).toMatch(/Unterminated group/);
    expect(patternProblem('fine')).toBeNull();
  });
});

describe('stripAnsi', () => {
  it('removes colours and hyperlinks, keeping the text', () => {
    expect(stripAnsi('\x1b[1;31merror\x1b[0m: \x1b]8;;https://x.test\x07link\x1b]8;;\x07')).toBe('error: link');
  });
});
