import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
  await adminQuery(`create schema ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', name);
  return { url: url.toString(), name, drop: () => adminQuery(`drop schema if exists ${name} cascade`) };
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${TEST_POSTGRES_URL} is not reachable; the tests need it running`, {
      cause: error,
    });
  }
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
