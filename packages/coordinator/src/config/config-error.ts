/** One problem in a config file: where (a path such as `builders[1].after`) and what was expected. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A config file that can't be used. Its message names the file and every problem in it. */
export class ConfigError extends Error {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`);
    super(`${file}: invalid configuration\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}
