import { readFile } from 'node:fs/promises';
import { isDocument, parseDocument } from 'yaml';
import { ConfigError } from './config-error.ts';

/** A file's text; a file that can't be read is a ConfigError naming it. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file (${(error as Error).message})` }]);
  }
}

/**
 * The YAML mapping a config file holds, not yet validated. YAML syntax errors (duplicate keys
 * included) and a document that is not a mapping are ConfigErrors; `expected` says what the
 * mapping should have, for the second.
 */
export function parseYamlMapping(file: string, text: string, expected: string): object {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((e) => ({ path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  let value: unknown;
  try {
    value = isDocument(document) ? document.toJS() : undefined;
  } catch (error) {
    // Resolving aliases can refuse too: too many of them (an "alias bomb"), or one that is undefined.
    throw new ConfigError(file, [{ path: '', message: `YAML: ${(error as Error).message}` }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(file, [{ path: '', message: `expected a mapping with ${expected}` }]);
  }
  return value;
}
