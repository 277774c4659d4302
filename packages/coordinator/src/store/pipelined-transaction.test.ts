import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedDatabase, openDatabase } from './open-database.ts';
import { beginWithNextStatement, commitAlone, commitWith } from './pipelined-transaction.ts';
import { createTestSchema, type TestSchema, testDatabaseQuery } from './test-database.ts';

describe('transactions whose BEGIN and COMMIT travel with their statements, on PostgreSQL', () => {
  let schema: TestSchema;
  let opened: OpenedDatabase;
  // One connection, so that what one test leaves on it, the next one meets.
  beforeAll(async () => {
    schema = await createTestSchema();
    opened = await openDatabase(schema.url, { poolSize: 1 });
    await sql`create table probe (v integer primary key, xid bigint not null)`.execute(opened.db);
  });

  afterAll(async () => {
    await opened.db.destroy();
    await schema.drop();
  });

  /** What another session sees committed. */
  const committed = async () =>
    (await testDatabaseQuery<{ v: number }>(`select v from ${schema.name}.probe order by v`)).map((row) => row.v);
  const insert = (v: number) => sql<{ xid: string }>`insert into probe values (${v}, txid_current()) returning xid`;

  it('runs the first and last statements in one transaction, committed once the last one answers', async () => {
    const rows = await opened.db.connection().execute(async (connection) => {
      await beginWithNextStatement(connection);
      const first = await insert(1).execute(connection);
      expect(await committed()).toEqual([]);
      const last = await commitWith(connection, insert(2).compile(connection));
      return [first.rows[0]?.xid, last[0]?.xid];
    });
    expect(rows[0]).toBeDefined();
    expect(rows[1]).toBe(rows[0]);
    expect(await committed()).toEqual([1, 2]);
  });

  it('throws the last statement’s own error, and the rollback leaves nothing of the transaction', async () => {
    const attempt = opened.db.connection().execute(async (connection) => {
      await beginWithNextStatement(connection);
      await insert(3).execute(connection);
      try {
        await commitWith(connection, insert(1).compile(connection));
      } catch (error) {
        await sql`rollback`.execute(connection);
        throw error;
      }
    });
    await expect(attempt).rejects.toThrow(/duplicate key value violates unique constraint/);
    expect(await committed()).toEqual([1, 2]);
  });

  it('refuses to call a COMMIT that rolled back an aborted transaction a success', async () => {
    const attempt = opened.db.connection().execute(async (connection) => {
      await beginWithNextStatement(connection);
      await insert(1)
        .execute(connection)
        .catch(() => undefined);
      await commitAlone(connection);
    });
    await expect(attempt).rejects.toThrow(/aborted by a failed statement/);
  });

  it('sends nothing for a transaction ended before its first statement, and the next statement commits alone', async () => {
    await opened.db.connection().execute(async (connection) => {
      await beginWithNextStatement(connection);
      await sql`commit`.execute(connection);
      await insert(4).execute(connection);
      expect(await committed()).toEqual([1, 2, 4]);
    });
  });

  it('forgets a BEGIN still waiting for a statement when its connection goes back to the pool', async () => {
    await opened.db.connection().execute((connection) => beginWithNextStatement(connection));
    await insert(5).execute(opened.db);
    expect(await committed()).toEqual([1, 2, 4, 5]);
  });
});
