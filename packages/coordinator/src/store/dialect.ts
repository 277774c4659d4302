import {
  type ColumnDefinitionBuilder,
  type Insertable,
  type Kysely,
  PostgresAdapter,
  type QueryExecutorProvider,
  sql,
} from 'kysely';
import { MAX_NOTIFY_PAYLOAD_BYTES } from './commit-notification.ts';
import type { InsertNotice } from './commit-signal.ts';
import { commitWith } from './pipelined-transaction.ts';
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
  /** Bytes as they are: a log chunk's frames. */
  binary: 'blob' | 'bytea';
  /** A primary key the database assigns, and that `db copy` may also set explicitly. */
  generatedId(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

export function columnTypes(dialect: DialectName): ColumnTypes {
  if (dialect === 'sqlite') {
    return {
      integer: 'integer',
      real: 'real',
      binary: 'blob',
      generatedId: (column) => column.primaryKey().autoIncrement(),
    };
  }
  return {
    integer: 'bigint',
    real: 'double precision',
    binary: 'bytea',
    generatedId: (column) => column.primaryKey().generatedByDefaultAsIdentity(),
  };
}

/**
 * Any fixed key shared by every coordinator of a farm: the lock that hands event ids out in
 * commit order (see insertEvents).
 */
const EVENT_ORDER_LOCK = 0x5377_7964;

/** Rows per statement: 8 parameters each, well under both databases' limits. */
const EVENTS_PER_INSERT = 1000;

/**
 * Appends a transaction's event rows and returns their ids, in the order given. On PostgreSQL an
 * id from a sequence is taken before its transaction commits, so a reader that tails
 * `id > last` could pass over a row that commits later with a smaller id. A transaction's event
 * insert therefore takes a transaction-scoped lock, held to its commit, so the events of
 * concurrent transactions commit in id order (the distributed reference, section 2). The lock
 * is taken by the insert statement itself, before the ids are drawn, and the outbox inserts its
 * events just before the commit (WriteContext.flushEvents), so it is held for one statement and
 * the commit rather than across the transaction's round trips. SQLite has one writer at a time,
 * so its ids are already in commit order.
 *
 * With `thenCommit` (PostgreSQL; the caller began the transaction on this connection), the last
 * insert goes out with the COMMIT right behind it (`commitWith`), so the server releases the
 * lock without waiting on this process.
 *
 * With a `notice` (PostgreSQL), the same statement NOTIFYs the other coordinators: the events
 * channel with the last id inserted, and the logs the transaction grew. The commit delivers it;
 * a rollback drops it.
 */
export async function insertEvents(
  trx: QueryExecutorProvider & Pick<Kysely<Database>, 'insertInto' | 'executeQuery'>,
  events: readonly Insertable<EventsTable>[],
  orderHeld: boolean,
  notice: InsertNotice | null = null,
  thenCommit = false,
): Promise<number[]> {
  const ids: number[] = [];
  const postgres = dialectOf(trx) === 'postgres';
  if (thenCommit && !postgres) throw new Error('only a PostgreSQL write commits with its event insert');
  for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
    const batch = events.slice(start, start + EVENTS_PER_INSERT);
    const last = start + EVENTS_PER_INSERT >= events.length;
    const statement = postgres ? insertOnPostgres(batch, !orderHeld && start === 0, notice) : null;
    const rows = !statement
      ? await trx.insertInto('events').values(batch).returning('id').execute()
      : thenCommit && last
        ? await commitWith(trx, statement.compile(trx))
        : (await statement.execute(trx)).rows;
    // Ids are drawn in the order the rows are given; RETURNING promises no order.
    ids.push(...rows.map((row) => row.id).sort((a, b) => a - b));
  }
  return ids;
}

function insertOnPostgres(
  events: readonly Insertable<EventsTable>[],
  takeOrderLock: boolean,
  notice: InsertNotice | null,
) {
  const rows = events.map(
    (event, index) =>
      sql`(${index}::integer, ${event.type}::text, ${event.created_at}::bigint, ${event.repo ?? null}::text,
        ${event.branch ?? null}::text, ${event.builder ?? null}::text, ${event.job_id ?? null}::bigint,
        ${event.push_id ?? null}::bigint, ${event.data}::text)`,
  );
  const orderLock = takeOrderLock
    ? sql`(select pg_advisory_xact_lock(${sql.lit(EVENT_ORDER_LOCK)})) as event_order cross join`
    : sql``;
  const insert = sql`
    insert into events (type, created_at, repo, branch, builder, job_id, push_id, data)
    select type, created_at, repo, branch, builder, job_id, push_id, data
    from ${orderLock} (values ${sql.join(rows)}) as event (n, type, created_at, repo, branch, builder, job_id, push_id, data)
    order by n`;
  if (!notice) return sql<{ id: number }>`${insert} returning id`;
  // The payload is commit-notification.ts's: the rows too when they fit. Uncorrelated subqueries
  // run once, not once per row.
  const logs = notice.logs ? sql`, (select pg_notify(${notice.logs.channel}, ${notice.logs.payload}))` : sql``;
  return sql<{ id: number }>`
    with inserted as (${insert} returning *)
    select id, (
      select pg_notify(${notice.channel}, case when octet_length(payload.with_rows) <= ${MAX_NOTIFY_PAYLOAD_BYTES}
        then payload.with_rows else payload.last_id end)
      from (select ${notice.sender} || ' ' || max(id) as last_id,
                   ${notice.sender} || ' ' || max(id) || ' ' || json_agg(inserted order by id)::text as with_rows
            from inserted) as payload
    ) ${logs}
    from inserted`;
}
