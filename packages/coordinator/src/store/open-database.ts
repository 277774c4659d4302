import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';
import { withStatementCache } from './statement-cache.ts';

/**
 * Opens the embedded SQLite store and brings its schema up to date. WAL with synchronous=NORMAL:
 * a committed transaction survives a crash of the coordinator process (not of the machine's
 * power), which is the promise the API makes for accepted pushes, results and log lines.
 */
export async function openSqlite(file: string): Promise<Kysely<Database>> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`cannot migrate the database ${file}: ${failed?.migrationName ?? ''} ${String(error)}`, {
      cause: error,
    });
  }
  return db;
}
