import { readFile } from 'node:fs/promises';
import { FarmConfig } from '@switchyard/protocol';
import { Compile } from 'typebox/compile';
import { isDocument, parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { afterNames, compileFarm, type Farm } from './farm-config.ts';

const validator = Compile(FarmConfig);

/** Reads, validates and compiles a farm config; throws ConfigError naming every problem. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Farm> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file (${(error as Error).message})` }]);
  }
  return parseConfig(file, text, env);
}

export function parseConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env): Farm {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((e) => ({ path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const value: unknown = isDocument(document) ? document.toJS() : undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a mapping with `repos:` and `builders:`' }]);
  }
  if (!validator.Check(value)) {
    throw new ConfigError(file, schemaProblems(value));
  }
  const problems = semanticProblems(value, env);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return compileFarm(file, value, env);
}

/** `/builders/1/after` → `builders[1].after` */
export function toConfigPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function schemaProblems(value: unknown): ConfigProblem[] {
  const errors = validator.Errors(value).filter((e) => e.keyword !== 'boolean');
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
        add(
          path ? `${path}.${extra}` : extra,
          "unknown setting (check its spelling against the README's configuration reference)",
        );
      }
    } else if (error.keyword === 'required') {
      const missing = (params.requiredProperties as string[] | undefined) ?? [];
      add(
        path,
        `missing required setting${missing.length > 1 ? 's' : ''} ${missing.map((m) => `\`${m}\``).join(', ')}`,
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
      return `expected ${params.type === 'array' ? 'a list' : params.type === 'object' ? 'a mapping' : `a ${params.type}`}`;
    case 'minimum':
      return `expected a number >= ${params.limit}`;
    case 'maximum':
      return `expected a number <= ${params.limit}`;
    case 'minLength':
      return 'expected a non-empty string';
    case 'maxLength':
      return `expected at most ${params.limit} characters`;
    case 'minItems':
      return `expected at least ${params.limit} item${params.limit === 1 ? '' : 's'}`;
    case 'pattern':
      return 'expected a name of letters, digits, ".", "_" or "-", starting with a letter or digit';
    case 'const':
      return `expected "${params.allowedValue}"`;
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

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function semanticProblems(config: FarmConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const repoNames = new Set<string>();
  config.repos.forEach((repo, i) => {
    if (repoNames.has(repo.name)) problems.push({ path: `repos[${i}].name`, message: `duplicate repo "${repo.name}"` });
    repoNames.add(repo.name);
  });
  const builderIndex = new Map<string, number>();
  config.builders.forEach((builder, i) => {
    if (builderIndex.has(builder.name)) {
      problems.push({
        path: `builders[${i}].name`,
        message: `duplicate builder "${builder.name}" (first at builders[${builderIndex.get(builder.name)}])`,
      });
    } else {
      builderIndex.set(builder.name, i);
    }
    if (!repoNames.has(builder.repo)) {
      problems.push({
        path: `builders[${i}].repo`,
        message: `expected one of the repos (${[...repoNames].join(', ')}), got "${builder.repo}"`,
      });
    }
    // With a checkout, the worker's first step is called `checkout`.
    const stepNames = new Set<string>(builder.checkout === false ? [] : ['checkout']);
    builder.steps.forEach((step, j) => {
      if (stepNames.has(step.name)) {
        const why = step.name === 'checkout' ? ' (the name of the checkout step the worker runs first)' : '';
        problems.push({ path: `builders[${i}].steps[${j}].name`, message: `duplicate step "${step.name}"${why}` });
      }
      stepNames.add(step.name);
    });
  });
  config.builders.forEach((builder, i) => {
    afterNames(builder).forEach((name, j) => {
      const path = Array.isArray(builder.after) ? `builders[${i}].after[${j}]` : `builders[${i}].after`;
      const target = builderIndex.get(name);
      if (target === undefined) {
        problems.push({ path, message: `expected the name of a builder, got "${name}"` });
      } else if (config.builders[target]?.repo !== builder.repo) {
        problems.push({ path, message: `builder "${name}" builds another repo; \`after\` needs one of the same push` });
      }
    });
  });
  const cycle = findCycle(config);
  if (cycle) {
    problems.push({
      path: `builders[${builderIndex.get(cycle[0] as string)}].after`,
      message: `dependency cycle: ${cycle.join(' → ')}`,
    });
  }
  const tokenNames = new Set<string>();
  config.auth?.tokens.forEach((token, i) => {
    const path = `auth.tokens[${i}]`;
    if (tokenNames.has(token.name)) problems.push({ path: `${path}.name`, message: `duplicate token "${token.name}"` });
    tokenNames.add(token.name);
    if ((token.sha256 === undefined) === (token.env === undefined)) {
      problems.push({ path, message: 'expected exactly one of `sha256` or `env`' });
    } else if (token.env !== undefined && !env[token.env]) {
      problems.push({ path: `${path}.env`, message: `environment variable ${token.env} is not set or empty` });
    }
  });
  return problems;
}

/** Returns the builder names around a cycle of `after` edges (first name repeated at the end), or null. */
function findCycle(config: FarmConfig): string[] | null {
  const edges = new Map<string, string[]>();
  for (const b of config.builders) {
    edges.set(b.name, afterNames(b));
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done' || !edges.has(name)) return null;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of edges.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}
