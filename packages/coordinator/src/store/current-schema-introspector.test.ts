import { randomBytes } from 'node:crypto';
import { type DatabaseMetadataOptions, Kysely, PostgresDialect, type TableMetadata } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.ts';
import type { Database } from './schema.ts';
import { createTestSchema, TEST_POSTGRES_URL, type TestSchema, testDatabaseQuery } from './test-database.ts';

describe('the PostgreSQL introspection of a farm', () => {
  let farm: TestSchema;
  let other: TestSchema;
  let db: Kysely<Database>;
  let otherDb: Kysely<Database>;

  beforeAll(async () => {
    farm = await createTestSchema();
    other = await createTestSchema();
    ({ db } = await openDatabase(farm.url));
    ({ db: otherDb } = await openDatabase(other.url));
    await testDatabaseQuery(`create table ${other.name}.only_elsewhere (id bigint)`);
  });

  afterAll(async () => {
    await db.destroy();
    await otherDb.destroy();
    await farm.drop();
    await other.drop();
  });

  it('lists the tables of the farm’s schema as Kysely’s own introspector describes them, and no other schema’s', async () => {
    const kysely = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: TEST_POSTGRES_URL }) }),
    });
    // Kysely's own reads every schema of the database, so it fails when another test file drops one meanwhile.
    const everySchema = async (options: DatabaseMetadataOptions): Promise<TableMetadata[]> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await kysely.introspection.getTables(options);
        } catch (error) {
          if (attempt === 5) throw error;
        }
      }
    };
    try {
      for (const withInternalKyselyTables of [false, true]) {
        const tables = await db.introspection.getTables({ withInternalKyselyTables });
        const expected = await everySchema({ withInternalKyselyTables });
        expect(tables).toStrictEqual(expected.filter((table) => table.schema === farm.name));
        expect(tables.some((table) => table.name === 'events')).toBe(true);
        expect(tables.some((table) => table.name === 'kysely_migration')).toBe(withInternalKyselyTables);
      }
      expect((await otherDb.introspection.getTables()).map((table) => table.name)).toContain('only_elsewhere');
      expect(await db.introspection.getSchemas()).toEqual([{ name: farm.name }]);
    } finally {
      await kysely.destroy();
    }
  });

  it('migrates a farm while other schemas of the database are created and dropped', async () => {
    // One session for the churn: a connection per statement would mostly load the server with new sessions.
    const churner = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await churner.connect();
    let churning = true;
    const churn = (async () => {
      while (churning) {
        const passing = `t_${randomBytes(6).toString('hex')}`;
        await churner.query(`create schema ${passing}`);
        await churner.query(`create table ${passing}.events (id bigserial primary key, type text)`);
        await churner.query(`drop schema ${passing} cascade`);
      }
    })().finally(() => churner.end());
    try {
      for (let open = 0; open < 20; open++) {
        const fresh = await createTestSchema();
        try {
          const { db: freshDb } = await openDatabase(fresh.url, { poolSize: 1 });
          await freshDb.destroy();
        } finally {
          await fresh.drop();
        }
      }
    } finally {
      churning = false;
      await churn;
    }
  });
});
