import { sql } from 'kysely';
import type { Logger } from 'pino';
import { LocalCommits, PostgresCommits } from './commit-signal.ts';
import type { StoreError } from './errors.ts';
import { openDatabase } from './open-database.ts';
import type { FarmStore } from './port.ts';
import { createSqlFarmStore } from './sql-farm-store.ts';

export interface OpenStoreOptions {
  /** The current aging setting (it may change on reload). */
  agingMs(): number;
  logger: Logger;
  clock?: () => number;
  /** Told of every statement the database refused for lack of disk space. */
  onDiskFull?: (error: StoreError) => void;
}

/**
 * Opens the farm's store on an SQLite file or a `postgres://` URL, its schema migrated. On
 * PostgreSQL the store also listens for the other coordinators' commits.
 */
export async function openFarmStore(target: string, options: OpenStoreOptions): Promise<FarmStore> {
  const { db, dialect } = await openDatabase(target, {
    onIdleError: (error) => options.logger.warn({ err: error }, 'a pooled database connection failed while idle'),
    onDiskFull: options.onDiskFull,
  });
  if (dialect === 'sqlite') {
    const commits = new LocalCommits();
    return createSqlFarmStore({
      ...options,
      db,
      dialect,
      commits,
      logAppends: commits,
    });
  }
  const url = new URL(target);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  const commits = new PostgresCommits(
    url.toString(),
    schema,
    async (notifications) => {
      const calls = notifications.map(({ channel, payload }) => sql`pg_notify(${channel}, ${payload})`);
      await sql`select ${sql.join(calls)}`.execute(db);
    },
    options.logger,
  );
  try {
    await commits.listen();
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return createSqlFarmStore({
    ...options,
    db,
    dialect,
    commits,
    insertNotice: (grownLogs) => commits.insertNotice(grownLogs),
    logAppends: commits,
    onClose: () => commits.close(),
  });
}
