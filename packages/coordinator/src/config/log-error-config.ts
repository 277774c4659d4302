import type { FarmConfig } from '@switchyard/protocol';
import { compileErrorPatterns, DEFAULT_ERROR_PATTERNS, patternProblem } from '../logs/error-patterns.ts';
import type { ConfigProblem } from './config-error.ts';

/** The error-line expression of `logs: error_patterns`, or of the built-in list without one. */
export function compileLogErrors(logs: FarmConfig['logs']): RegExp {
  return compileErrorPatterns(logs?.error_patterns ?? DEFAULT_ERROR_PATTERNS);
}

/** Each pattern that is not a valid regular expression, with the reason. */
export function logErrorProblems(config: FarmConfig): ConfigProblem[] {
  return (config.logs?.error_patterns ?? []).flatMap((pattern, i) => {
    const problem = patternProblem(pattern);
    return problem === null ? [] : [{ path: `logs.error_patterns[${i}]`, message: problem }];
  });
}
