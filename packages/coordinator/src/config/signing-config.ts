import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FarmConfig, SigningSettings, TokenSecret } from '@switchyard/protocol';
import type { ConfigProblem } from './config-error.ts';

/** The `signing:` section, compiled: where the signer is, and the secret job tokens are signed with. */
export interface SigningConfig {
  url: string;
  secret: TokenSecret;
}

/** What the signer accepts, so that a shorter secret is refused here rather than by every signing request. */
const MIN_SECRET_BYTES = 32;

/** Null without a `signing:` section. Call after `signingProblems` found none. */
export function compileSigning(
  raw: SigningSettings | undefined,
  file: string,
  env: NodeJS.ProcessEnv,
): SigningConfig | null {
  if (!raw) return null;
  const text = readSecret(raw.secret, file, env);
  if (text.ok === false) throw new Error(text.problem.message);
  // The signer reads the secret's text as its bytes; the two must agree byte for byte.
  return { url: raw.url.replace(/\/+$/, ''), secret: { id: raw.secret.id, key: Buffer.from(text.value, 'utf8') } };
}

/** What the schema can't check: the secret is there and long enough, and `sign:` has a signer to go to. */
export function signingProblems(config: FarmConfig, file: string, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.signing) {
    const secret = readSecret(config.signing.secret, file, env);
    if (!secret.ok) problems.push(secret.problem);
    else if (Buffer.byteLength(secret.value, 'utf8') < MIN_SECRET_BYTES) {
      problems.push({
        path: `signing.secret.${config.signing.secret.env !== undefined ? 'env' : 'file'}`,
        message: `the secret must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32)`,
      });
    }
  }
  config.builders.forEach((builder, i) => {
    if (builder.sign && !config.signing) {
      problems.push({
        path: `builders[${i}].sign`,
        message: 'signing files needs a signing service: add a top-level `signing:` section (url, secret)',
      });
    }
  });
  return problems;
}

type SecretText = { ok: true; value: string } | { ok: false; problem: ConfigProblem };

function readSecret(secret: SigningSettings['secret'], file: string, env: NodeJS.ProcessEnv): SecretText {
  if ((secret.env === undefined) === (secret.file === undefined)) {
    return { ok: false, problem: { path: 'signing.secret', message: 'expected exactly one of `env` or `file`' } };
  }
  if (secret.env !== undefined) {
    const value = env[secret.env];
    if (!value) {
      return {
        ok: false,
        problem: { path: 'signing.secret.env', message: `environment variable ${secret.env} is not set or empty` },
      };
    }
    return { ok: true, value: value.trim() };
  }
  try {
    return { ok: true, value: readFileSync(resolve(dirname(file), secret.file as string), 'utf8').trim() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { ok: false, problem: { path: 'signing.secret.file', message: `cannot read it (${code})` } };
  }
}
