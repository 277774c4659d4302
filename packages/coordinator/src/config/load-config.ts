import { FarmConfig } from '@switchyard/protocol';
import { Compile } from 'typebox/compile';
import { artifactProblems } from './artifact-rules.ts';
import { blobsProblems } from './blobs-config.ts';
import { afterNames, findCycle } from './builder-dependencies.ts';
import { checkoutProblems } from './checkout-rules.ts';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { databaseProblems } from './database-config.ts';
import { eventsProblems } from './events-config.ts';
import { compileFarm, type Farm, sha256Hex } from './farm-config.ts';
import { globProblems } from './glob-rules.ts';
import { logErrorProblems } from './log-error-config.ts';
import { schemaProblems } from './schema-problems.ts';
import { signingProblems } from './signing-config.ts';
import { parseYamlMapping, readConfigText } from './yaml-file.ts';

const validator = Compile(FarmConfig);

/** Reads, validates and compiles a farm config; throws ConfigError naming every problem. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Farm> {
  const text = await readConfigText(file);
  return parseConfig(file, text, env);
}

export function parseConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env): Farm {
  const value = parseYamlMapping(file, text, '`repos:` and `builders:`');
  if (!validator.Check(value)) {
    throw new ConfigError(file, schemaProblems(validator, value, 'docs/reference/configuration.md'));
  }
  const problems = semanticProblems(file, value, env);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return compileFarm(file, value, env);
}

function semanticProblems(file: string, config: FarmConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
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
  const cycle = findCycle(config.builders);
  if (cycle) {
    problems.push({
      path: `builders[${builderIndex.get(cycle[0] as string)}].after`,
      message: `dependency cycle: ${cycle.join(' → ')}`,
    });
  }
  problems.push(...artifactProblems(config));
  problems.push(...globProblems(config));
  problems.push(...checkoutProblems(config));
  problems.push(...eventsProblems(config, env));
  problems.push(...databaseProblems(config, env));
  problems.push(...blobsProblems(config, env));
  problems.push(...logErrorProblems(config));
  problems.push(...signingProblems(config, file, env));
  config.builders.forEach((builder, i) => {
    if (builder.coalesce_limit !== undefined && builder.coalesce !== 'latest') {
      problems.push({
        path: `builders[${i}].coalesce_limit`,
        message: 'only applies with `coalesce: latest`; add that, or remove the limit',
      });
    }
  });
  config.branches?.forEach((rule, i) => {
    const earlier = config.branches?.findIndex((other) => other.match === rule.match) ?? i;
    if (earlier < i) {
      problems.push({
        path: `branches[${i}].match`,
        message: `"${rule.match}" is already matched by branches[${earlier}], so this entry never applies`,
      });
    }
  });
  const tokenNames = new Set<string>();
  const tokenHashes = new Map<string, number>();
  config.auth?.tokens.forEach((token, i) => {
    const path = `auth.tokens[${i}]`;
    if (tokenNames.has(token.name)) problems.push({ path: `${path}.name`, message: `duplicate token "${token.name}"` });
    tokenNames.add(token.name);
    if ((token.sha256 === undefined) === (token.env === undefined)) {
      problems.push({ path, message: 'expected exactly one of `sha256` or `env`' });
      return;
    }
    const secret = token.env === undefined ? undefined : env[token.env];
    if (token.env !== undefined && !secret) {
      problems.push({ path: `${path}.env`, message: `environment variable ${token.env} is not set or empty` });
      return;
    }
    // Tokens are looked up by hash: a second entry would silently take the first one's place.
    const hash = token.sha256 ?? sha256Hex(secret as string);
    const first = tokenHashes.get(hash);
    if (first === undefined) {
      tokenHashes.set(hash, i);
    } else {
      const other = config.auth?.tokens[first];
      problems.push({
        path,
        message: `the same token as auth.tokens[${first}] ("${other?.name}"): a token has one name and one set of scopes, so list it once`,
      });
    }
  });
  return problems;
}
