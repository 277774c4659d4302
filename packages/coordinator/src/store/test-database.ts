import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DialectName } from './dialect.ts';

/** The PostgreSQL the tests run against; an unreachable one fails them, it never skips them. */
export const TEST_POSTGRES_URL = process.env.SWITCHYARD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** The URL with `?schema=`, for openDatabase and `switchyard server --database`. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty schema in the test database, so test files and runs never see each other's rows. */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await testDatabaseQuery(`create schema ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', name);
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await testDatabaseQuery(`drop schema if exists ${name} cascade`);
    },
  };
}

/** Both databases, for a suite that runs its cases on each. */
export const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres'];

export interface EmptyDatabase {
  /** For openDatabase: an SQLite file not yet made, or a fresh schema's URL. */
  target: string;
  /** Throws the database away (the file's directory, or the schema). */
  remove(): Promise<void>;
}

/** An empty database of either kind: a file in a new temporary directory, or a fresh schema. */
export async function createEmptyDatabase(dialect: DialectName): Promise<EmptyDatabase> {
  if (dialect === 'postgres') {
    const schema = await createTestSchema();
    return { target: schema.url, remove: schema.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-store-'));
  return { target: join(dir, 'farm.db'), remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** One statement on the test database as its administrator, for tests that inspect or break a farm's schema. */
export async function testDatabaseQuery<Row>(statement: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${TEST_POSTGRES_URL} is not reachable; the tests need it running`, {
      cause: error,
    });
  }
  try {
    return (await client.query(statement, values)).rows as Row[];
  } finally {
    await client.end();
  }
}

/**
 * Sessions of the test database waiting for the advisory lock with this bigint key: a test sees
 * a coordinator queue behind another's lock. pg_locks shows a bigint key as its high and low
 * 32 bits (classid, objid) with objsubid 1.
 */
export async function advisoryLockWaiters(key: string): Promise<number> {
  const unsigned = BigInt.asUintN(64, BigInt(key));
  const rows = await testDatabaseQuery<{ count: string }>(
    `select count(*) as count from pg_locks
       where locktype = 'advisory' and not granted and objsubid = 1 and classid = $1 and objid = $2`,
    [(unsigned >> 32n).toString(), (unsigned & 0xffff_ffffn).toString()],
  );
  return Number(rows[0]?.count ?? 0);
}
