import type { DatabaseSettings, FarmConfig } from '@switchyard/protocol';
import type { ConfigProblem } from './config-error.ts';

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** The `database:` section, compiled: the PostgreSQL URL, or null for the SQLite file in the data directory. */
export function compileDatabase(raw: DatabaseSettings | undefined, env: NodeJS.ProcessEnv): string | null {
  if (!raw) return null;
  return raw.url ?? (env[raw.url_env as string] as string);
}

/** What the schema can't check in `database:`: one source for the URL, and a URL that parses. */
export function databaseProblems(config: FarmConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const raw = config.database;
  if (!raw) return [];
  if ((raw.url === undefined) === (raw.url_env === undefined)) {
    return [{ path: 'database', message: 'expected exactly one of `url` or `url_env`' }];
  }
  const path = raw.url === undefined ? 'database.url_env' : 'database.url';
  const url = raw.url ?? env[raw.url_env as string];
  if (url === undefined || url === '') {
    return [{ path, message: `environment variable ${raw.url_env} is not set or empty` }];
  }
  if (!POSTGRES_URL.test(url)) {
    return [{ path, message: `expected a postgres:// URL${raw.url_env ? ` in ${raw.url_env}` : ''}` }];
  }
  if (!URL.canParse(url)) return [{ path, message: 'expected a URL such as postgres://user@host:5432/database' }];
  return [];
}
