/**
 * What counts as an error line in a build log when the config's `logs: error_patterns` does not
 * say otherwise. Each is a JavaScript regular expression, case-sensitive, tried on the line
 * without ANSI escapes. Like Treeherder's ErrorParser, these favour lines a human would look at
 * first over completeness: a warning that mentions "error" in passing should not match.
 *
 * Each starts with literal text and checks what comes before it with a lookbehind (`^` is the
 * line's start): V8 finds a literal quickly, but tries a leading `^`, `\s` or `\b` at every
 * character. Over a million lines that is 0.1 s against 0.8 s for the same patterns written
 * anchor-first, most of the time it takes to index a log (bench/dashboard.ts).
 */
export const DEFAULT_ERROR_PATTERNS: readonly string[] = [
  // Compilers: `file.c:12:5: error: …` (gcc, clang, go vet), `error[E0308]: …` (rustc), tsc.
  String.raw`:\d+(?::\d+)?:\s+(?:fatal\s+)?error\b`,
  String.raw`error(?:\[[A-Z]?\d+\])?:\s(?<=^[ \t]*error(?:\[[A-Z]?\d+\])?:\s)`,
  String.raw`error TS\d+:`,
  // Test runners: `FAIL …` (go test, jest, vitest), pytest's FAILED, TAP's `not ok`, Mozilla's harness.
  String.raw`FAIL(?:ED)?\b(?<=^[ \t]*(?:--- )?FAIL(?:ED)?\b)`,
  String.raw`FAILED\b(?<=\sFAILED\b)`,
  String.raw`not ok \d(?<=^[ \t]*not ok \d)`,
  'TEST-UNEXPECTED-',
  // Tracebacks and uncaught exceptions: Python, Node, Go panics, Rust panics.
  String.raw`Traceback \(most recent call last\):(?<=^Traceback \(most recent call last\):)`,
  String.raw`(?:Error|Exception):\s(?<=^[\w.]*(?:Error|Exception):\s)`,
  'panic: (?<=^panic: )',
  'panicked at',
  // Build tools.
  String.raw`: \*\*\*(?<=\bmake(?:\[\d+\])?: \*\*\*)`,
  String.raw`npm (?:ERR!|error)\s(?<=^npm (?:ERR!|error)\s)`,
  String.raw`fatal error\b(?<=(?:^|\W)fatal error\b)`,
  'PROCESS-CRASH',
];

/** The patterns as one expression, so a line costs one match however many patterns there are. */
export function compileErrorPatterns(patterns: readonly string[]): RegExp {
  return new RegExp(patterns.map((pattern) => `(?:${pattern})`).join('|'));
}

/** Why a pattern is not a valid regular expression, or null when it is. */
export function patternProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
