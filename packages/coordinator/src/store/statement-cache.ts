import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const CAPACITY = 512;

/**
 * Kysely's SQLite driver prepares every query anew; preparing cost more than a tenth of the
 * coordinator's CPU in the trivial-job benchmark (bench/throughput.ts). Kysely sends the same few
 * dozen SQL strings over and over, so prepared statements are kept and reused, least recently
 * used first out. better-sqlite3 runs statements synchronously, so one is never in use twice.
 *
 * Kysely's rollback after a failed statement is only done when a transaction is still open:
 * SQLite ends the whole transaction by itself on some errors (SQLITE_FULL among them), and the
 * rollback would then fail with "cannot rollback - no transaction is active", which Kysely
 * throws in place of the error that mattered.
 */
export function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  const rollback: SqliteStatement = {
    reader: false,
    all: () => [],
    iterate: () => [][Symbol.iterator](),
    run: () => {
      if (database.inTransaction) database.exec('rollback');
      return { changes: 0, lastInsertRowid: 0 };
    },
  };
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      if (sql === 'rollback') return rollback;
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = database.prepare(sql) as unknown as SqliteStatement;
        if (statements.size >= CAPACITY) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
