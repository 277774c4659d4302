/** A benchmark's `--name value` from the command line, or undefined when it is not given. */
export function textOption(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

/** A benchmark's numeric `--name value`; a value that is not a number stops the run with a clear error. */
export function numberOption(name: string, fallback: number): number {
  const text = textOption(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`--${name} expects a number, got "${text}"`);
  return value;
}

/** Whether a bare `--name` was given. */
export function flagOption(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
