import { parseSize } from '@switchyard/proxy/size';
import { InvalidArgumentError } from 'commander';

/** A commander parser for whole numbers in a range: ids, counts, ports. */
export function wholeNumber(min: number, max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `a whole number from ${min}` : `a whole number, ${min} to ${max}`;
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`expected ${expected}.`);
    return number;
  };
}

export const parseId = wholeNumber(1);

/** A commander parser for the coordinator's address. */
export function parseServerUrl(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : null;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new InvalidArgumentError('expected an http:// or https:// URL, e.g. http://127.0.0.1:7420.');
  }
  return value;
}

/** A commander parser for a repeated `--tag key=value`, collecting the tags into one record. */
export function collectTag(value: string, tags: Record<string, string>): Record<string, string> {
  const separator = value.indexOf('=');
  const key = value.slice(0, separator);
  if (separator < 1 || /\s/.test(key)) throw new InvalidArgumentError('expected key=value, e.g. --tag os=linux.');
  return { ...tags, [key]: value.slice(separator + 1) };
}

/** A commander parser for a comma-separated list. */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** A commander parser for a size such as 50GiB, 500MB or 1048576 (bytes). */
export function parseByteSize(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
