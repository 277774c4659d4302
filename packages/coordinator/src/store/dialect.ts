import {
  type ColumnDefinitionBuilder,
  type Insertable,
  type Kysely,
  PostgresAdapter,
  type QueryExecutorProvider,
  sql,
} from 'kysely';
import type { Database, EventsTable } from './schema.ts';

/**
 * Where the two databases differ, named in one place. Everything else in `store/` is one
 * query layer that both run unchanged.
 */
export type DialectName = 'sqlite' | 'postgres';

/** Which database a Kysely instance or transaction talks to. */
export function dialectOf(db: QueryExecutorProvider): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Column types as each database spells them. SQLite's INTEGER and REAL hold 64 bits, so on
 * PostgreSQL they become bigint and double precision: ids, epoch milliseconds and queue ranks
 * (epoch ms plus priority offsets) would overflow integer or lose their order in real.
 * On SQLite the spellings are the ones the first migrations were released with, so an existing
 * farm's schema stays what it was.
 */
export interface ColumnTypes {
  integer: 'integer' | 'bigint';
  real: 'real' | 'double precision';
  /** A primary key the database assigns, and that `db copy` may also set explicitly. */
  generatedId(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

export function columnTypes(dialect: DialectName): ColumnTypes {
  if (dialect === 'sqlite') {
    return { integer: 'integer', real: 'real', generatedId: (column) => column.primaryKey().autoIncrement() };
  }
  return {
    integer: 'bigint',
    real: 'double precision',
    generatedId: (column) => column.primaryKey().generatedByDefaultAsIdentity(),
  };
}

/**
 * Any fixed key shared by every coordinator of a farm: the lock that hands event ids out in
 * commit order (see insertEvent).
 */
const EVENT_ORDER_LOCK = 0x5377_7964;

/**
 * Appends an event row and returns its id. On PostgreSQL an id from a sequence is taken before
 * its transaction commits, so a reader that tails `id > last` could pass over a row that commits
 * later with a smaller id. A transaction's first event insert therefore takes a transaction-scoped
 * lock, held to its commit, so the events of concurrent transactions commit in id order (measured
 * in the distributed reference, section 2: about a third of unordered write throughput, far above
 * what a farm's coordinators write). The lock is taken by the insert statement itself, before the
 * id is drawn, which spares a round trip on every writing transaction. SQLite has one writer at a
 * time, so its ids are already in commit order.
 */
export async function insertEvent(
  trx: QueryExecutorProvider & Pick<Kysely<Database>, 'insertInto'>,
  event: Insertable<EventsTable>,
  orderHeld: boolean,
): Promise<number> {
  if (orderHeld || dialectOf(trx) === 'sqlite') {
    const row = await trx.insertInto('events').values(event).returning('id').executeTakeFirstOrThrow();
    return row.id;
  }
  const { rows } = await sql<{ id: number }>`
    insert into events (type, created_at, repo, branch, builder, job_id, push_id, data)
    select ${event.type}::text, ${event.created_at}::bigint, ${event.repo ?? null}::text, ${event.branch ?? null}::text,
      ${event.builder ?? null}::text, ${event.job_id ?? null}::bigint, ${event.push_id ?? null}::bigint, ${event.data}::text
    from (select pg_advisory_xact_lock(${sql.lit(EVENT_ORDER_LOCK)})) as event_order
    returning id`.execute(trx);
  return (rows[0] as { id: number }).id;
}
