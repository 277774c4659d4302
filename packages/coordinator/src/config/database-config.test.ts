import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';

const base = 'repos: [{ name: demo, url: /srv/git/demo.git }]\nbuilders: []\n';

const problemsOf = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig('farm.yml', text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
};

describe('the database: section', () => {
  it('is absent by default: the SQLite file in the data directory', () => {
    expect(parseConfig('farm.yml', base).database).toBeNull();
  });

  it('takes the PostgreSQL URL as written or from the environment', () => {
    const written = parseConfig('farm.yml', `${base}database: { url: "postgres://farm@db.example.org/switchyard" }\n`);
    expect(written.database).toBe('postgres://farm@db.example.org/switchyard');
    const fromEnv = parseConfig('farm.yml', `${base}database: { url_env: FARM_DB }\n`, {
      FARM_DB: 'postgresql://farm:secret@db.example.org:5433/switchyard',
    });
    expect(fromEnv.database).toBe('postgresql://farm:secret@db.example.org:5433/switchyard');
  });

  it('names what is wrong and where', () => {
    expect(problemsOf(`${base}database: { url: "mysql://db.example.org/farm" }\n`)).toEqual([
      {
        path: 'database.url',
        message: 'expected a postgres:// URL without spaces or control characters, got "mysql://db.example.org/farm"',
      },
    ]);
    expect(problemsOf(`${base}database: {}\n`)).toEqual([
      { path: 'database', message: 'expected exactly one of `url` or `url_env`' },
    ]);
    expect(problemsOf(`${base}database: { url_env: FARM_DB }\n`)).toEqual([
      { path: 'database.url_env', message: 'environment variable FARM_DB is not set or empty' },
    ]);
    expect(problemsOf(`${base}database: { url_env: FARM_DB }\n`, { FARM_DB: 'sqlite:farm.db' })).toEqual([
      { path: 'database.url_env', message: 'expected a postgres:// URL in FARM_DB' },
    ]);
    expect(problemsOf(`${base}database: { url: "postgres://farm@[bad/x" }\n`)).toEqual([
      { path: 'database.url', message: 'expected a URL such as postgres://user@host:5432/database' },
    ]);
    expect(problemsOf(`${base}database: { url: "postgres://x/y", pool: 3 }\n`)).toEqual([
      expect.objectContaining({ path: 'database.pool' }),
    ]);
  });
});
