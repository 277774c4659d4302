import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { unavailableOf } from './errors.ts';
import { TEST_POSTGRES_URL, testDatabaseQuery } from './test-database.ts';

/** The error a real node-postgres client gives for `work`, with PostgreSQL as it is here. */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  return work().then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('unavailableOf: a database out of reach, from the real driver', () => {
  it('takes a refused connection', async () => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    const error = await failureOf(() => client.connect());
    expect(unavailableOf(error)).toMatchObject({ kind: 'unavailable' });
  });

  it('takes a session the server ended (pg_terminate_backend, a restart, a failover)', async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: 'errors-test-victim' });
    client.on('error', () => {});
    await client.connect();
    try {
      const [{ pid }] = (await client.query('select pg_backend_pid() as pid')).rows as [{ pid: number }];
      await testDatabaseQuery('select pg_terminate_backend($1)', [pid]);
      const error = await failureOf(() => client.query('select 1'));
      expect(unavailableOf(error)).toMatchObject({ kind: 'unavailable' });
    } finally {
      await client.end().catch(() => {});
    }
  });

  it('takes a statement written to a session the server had just ended (EPIPE, ECONNRESET)', () => {
    // What node's socket reports, as a pool client met it while pg_terminate_backend cut a replica's sessions.
    for (const code of ['EPIPE', 'ECONNRESET']) {
      const error = Object.assign(new Error(`write ${code}`), { code, syscall: 'write' });
      expect(unavailableOf(error)).toMatchObject({ kind: 'unavailable' });
    }
  });

  it('takes a pool that waited too long for a connection', async () => {
    const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 1, connectionTimeoutMillis: 50 });
    const held = await pool.connect();
    try {
      const error = await failureOf(() => pool.query('select 1'));
      expect(unavailableOf(error)).toMatchObject({ kind: 'unavailable' });
    } finally {
      held.release();
      await pool.end();
    }
  });

  it('leaves every other failure alone: a syntax error, a division by zero, anything else', async () => {
    const syntax = await failureOf(() => testDatabaseQuery('selec 1'));
    const division = await failureOf(() => testDatabaseQuery('select 1/0'));
    expect(unavailableOf(syntax)).toBeNull();
    expect(unavailableOf(division)).toBeNull();
    expect(unavailableOf(new Error('something else'))).toBeNull();
    expect(unavailableOf(undefined)).toBeNull();
  });
});
