import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedDatabase, openDatabase } from './open-database.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';

describe('prepared statements on PostgreSQL', () => {
  let schema: TestSchema;
  let opened: OpenedDatabase;

  beforeAll(async () => {
    schema = await createTestSchema();
    opened = await openDatabase(schema.url, { poolSize: 1 });
  });

  afterAll(async () => {
    await opened.db.destroy();
    await schema.drop();
  });

  const prepared = async () =>
    (
      await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'sy_%'`.execute(
        opened.db,
      )
    ).rows.map((row) => row.statement);

  it('prepares a statement with parameters once per connection and reuses it', async () => {
    const before = (await prepared()).length;
    for (let i = 0; i < 3; i++) {
      await opened.db.selectFrom('farm_settings').selectAll().where('name', '=', `probe-${i}`).execute();
    }
    const after = await prepared();
    expect(after.length).toBe(before + 1);
    expect(after.filter((text) => text.includes('farm_settings'))).toHaveLength(1);
  });

  it('prepares a statement afresh once a migration changed the columns it returns', async () => {
    const read = () => sql`select * from probe where id = ${1}`.execute(opened.db);
    await sql`create table probe (id integer)`.execute(opened.db);
    await sql`insert into probe values (1)`.execute(opened.db);
    expect((await read()).rows).toEqual([{ id: 1 }]);
    await sql`alter table probe add column note text`.execute(opened.db);
    await expect(read()).rejects.toThrow(/cached plan must not change result type/);
    expect((await read()).rows).toEqual([{ id: 1, note: null }]);
  });
});
