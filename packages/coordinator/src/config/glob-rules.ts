import { type FarmConfig, quoted } from '@switchyard/protocol';
import picomatch from 'picomatch';
import type { ConfigProblem } from './config-error.ts';

/**
 * What a schema can't say about globs (builders' `branches`, `branches[].match`, artifact
 * paths): that they are globs at all. Left to itself picomatch reads an unclosed `[`, `{` or
 * `(` as a literal character, or makes a glob nothing matches, so a typo would quietly build no
 * branch or upload no file.
 */
export function globProblems(config: FarmConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const check = (glob: string, path: string) => {
    const problem = globProblem(glob);
    if (problem !== null) problems.push({ path, message: problem });
  };
  config.builders.forEach((builder, i) => {
    builder.branches?.forEach((glob, j) => {
      check(glob, `builders[${i}].branches[${j}]`);
    });
    builder.artifacts?.forEach((entry, j) => {
      if (typeof entry === 'string') check(entry, `builders[${i}].artifacts[${j}]`);
      else check(entry.path, `builders[${i}].artifacts[${j}].path`);
    });
  });
  config.branches?.forEach((rule, i) => {
    check(rule.match, `branches[${i}].match`);
  });
  return problems;
}

/** Why a glob is not one, in words; null when it is fine. */
export function globProblem(glob: string): string | null {
  let source: string;
  try {
    // strictBrackets: an unbalanced bracket, brace or parenthesis is an error, not a literal.
    source = picomatch.makeRe(glob, { strictBrackets: true, dot: true }).source;
  } catch (error) {
    return `expected a glob, got ${quoted(glob)}: ${(error as Error).message}`;
  }
  // picomatch's answer for what it can't read (a trailing lone backslash, say): match nothing.
  if (source === '$^') return `expected a glob, got ${quoted(glob)}, which nothing can match (a "\\" at the end?)`;
  return null;
}
