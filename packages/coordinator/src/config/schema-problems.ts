import { escapeUnsafe, patternMeaning } from '@switchyard/protocol';
import type { Validator } from 'typebox/compile';
import type { ConfigProblem } from './config-error.ts';

/** `/builders/1/after` → `builders[1].after` */
export function toConfigPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => escapeUnsafe(part.replace(/~1/g, '/').replace(/~0/g, '~')))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/**
 * What a value that failed its schema got wrong, one problem per path, in words: unknown settings,
 * missing ones, and "expected X, got Y". `reference` is the page that lists the settings, named in
 * the message for an unknown one so a misspelling can be checked against it.
 */
export function schemaProblems(validator: Validator, value: unknown, reference: string): ConfigProblem[] {
  // `propertyNames` also reports each bad key as a `pattern` error at its path, said below.
  const errors = validator.Errors(value).filter((e) => e.keyword !== 'boolean' && e.keyword !== 'propertyNames');
  // A union reports one error per branch plus `anyOf`; say "expected A or B" once instead.
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const expectedByUnion = new Map<string, string[]>();
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const key = `${path}|${message}`;
    if (!seen.has(key)) problems.push({ path, message });
    seen.add(key);
  };
  for (const error of errors) {
    const params = error.params as Record<string, unknown>;
    const path = toConfigPath(error.instancePath);
    if (unionPaths.has(error.instancePath) && error.keyword !== 'anyOf') {
      const list = expectedByUnion.get(error.instancePath) ?? [];
      list.push((expectation(error.keyword, params) ?? error.message).replace(/^expected /, ''));
      expectedByUnion.set(error.instancePath, list);
      continue;
    }
    if (error.keyword === 'anyOf') continue;
    if (error.keyword === 'additionalProperties') {
      for (const extra of (params.additionalProperties as string[] | undefined) ?? []) {
        add(path ? `${path}.${extra}` : extra, `unknown setting (check its spelling against ${reference})`);
      }
    } else if (error.keyword === 'required') {
      const missing = (params.requiredProperties as string[] | undefined) ?? [];
      add(
        path,
        `missing required setting${missing.length > 1 ? 's' : ''} ${missing.map((m) => `\`${m}\``).join(', ')}`,
      );
    } else if (error.schemaPath.endsWith('/propertyNames')) {
      // A key that fails its map's `propertyNames`: said at the map, since the key is what is wrong.
      const parent = error.instancePath.slice(0, error.instancePath.lastIndexOf('/'));
      add(
        toConfigPath(parent),
        `key ${describeValue(keyAt(error.instancePath))}: ${expectation(error.keyword, params) ?? error.message}`,
      );
    } else {
      add(
        path,
        `${expectation(error.keyword, params) ?? error.message}, got ${describeValue(valueAt(value, error.instancePath))}`,
      );
    }
  }
  for (const [pointer, expected] of expectedByUnion) {
    add(
      toConfigPath(pointer),
      `expected ${[...new Set(expected)].join(' or ')}, got ${describeValue(valueAt(value, pointer))}`,
    );
  }
  return problems.length > 0 ? problems : [{ path: '', message: 'does not match the configuration schema' }];
}

function expectation(keyword: string, params: Record<string, unknown>): string | null {
  switch (keyword) {
    case 'type':
      return `expected ${params.type === 'array' ? 'a list' : params.type === 'object' ? 'a mapping' : `${/^[aeiou]/.test(String(params.type)) ? 'an' : 'a'} ${params.type}`}`;
    case 'minimum':
      return `expected a number >= ${params.limit}`;
    case 'exclusiveMinimum':
      return `expected a number > ${params.limit}`;
    case 'maximum':
      return `expected a number <= ${params.limit}`;
    case 'minLength':
      return 'expected a non-empty string';
    case 'maxLength':
      return `expected at most ${params.limit} characters`;
    case 'minItems':
      return `expected at least ${params.limit} item${params.limit === 1 ? '' : 's'}`;
    case 'pattern':
      return `expected ${patternMeaning(params.pattern as string) ?? `text matching /${params.pattern}/`}`;
    case 'const':
      return `expected "${params.allowedValue}"`;
    case 'enum':
      return `expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return null;
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let current: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current;
}

function keyAt(pointer: string): string {
  return (pointer.split('/').at(-1) as string).replace(/~1/g, '/').replace(/~0/g, '~');
}

function describeValue(value: unknown): string {
  const text = escapeUnsafe(JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
