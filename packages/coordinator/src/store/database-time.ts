import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import type { WriteContext } from './write-context.ts';

/**
 * PostgreSQL's clock in epoch milliseconds. Replicas on several machines share one farm, and
 * their clocks drift: a lease written by one replica and checked by another must be measured by
 * one clock, the database's (the distributed reference, section 0). `clock_timestamp()` rather
 * than `now()`, the transaction's start, because a statement may have waited for a row lock.
 */
export const DATABASE_NOW_MS: RawBuilder<number> = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The database's time, as one statement of its own. */
export async function readDatabaseTime(db: Kysely<Database> | Transaction<Database>): Promise<number> {
  const { rows } = await sql<{ now: number }>`select ${DATABASE_NOW_MS} as now`.execute(db);
  return Number(rows[0]?.now);
}

/**
 * Gives a transaction whose time was to come from its first statement the time that statement
 * read, or, when it found no row to carry it, reads the time on its own.
 */
export async function settleNow(ctx: WriteContext, databaseNow: number | undefined): Promise<void> {
  if (!ctx.awaitingNow) return;
  ctx.setNow(databaseNow !== undefined ? Number(databaseNow) : await readDatabaseTime(ctx.trx as Kysely<Database>));
}
