import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import pg from 'pg';
import { CurrentSchemaPostgresDialect } from './current-schema-introspector.ts';
import type { DialectName } from './dialect.ts';
import { withDiskFullErrors } from './disk-full-dialect.ts';
import type { StoreError } from './errors.ts';
import { migrationProvider } from './migrations.ts';
import { forgetPendingBegin, pipelineTransactionEnds } from './pipelined-transaction.ts';
import { PreparedStatements } from './prepared-statements.ts';
import type { Database } from './schema.ts';
import { withStatementCache } from './statement-cache.ts';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Where it is, for messages: the file, or the URL without its password. */
  location: string;
}

export interface PostgresOptions {
  /** Connections in the pool (default 10): each replica needs max + 2 of the server's max_connections. */
  poolSize?: number;
  /**
   * Shown in pg_stat_activity, so an operator can tell the farm's sessions apart; the default
   * names the process, which tells the replicas' sessions apart too.
   */
  applicationName?: string;
  /** An idle pooled connection broke (the server restarted, the network dropped it). */
  onIdleError?: (error: Error) => void;
}

export interface DatabaseOptions extends PostgresOptions {
  /** Told of every statement refused for lack of disk space (thrown as the store error `disk-full`). */
  onDiskFull?: (error: StoreError) => void;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;

export function isPostgresUrl(target: string): boolean {
  return POSTGRES_URL.test(target);
}

/**
 * Opens the farm's database and brings its schema up to date: an SQLite file, or a
 * `postgres://` URL. A `schema` query parameter in the URL puts the farm's tables in that
 * PostgreSQL schema (tests use one per run).
 *
 * On PostgreSQL, commits do not wait for the WAL flush (`synchronous_commit=off`) unless the URL
 * says `synchronous_commit=on`: that is the embedded SQLite's promise (WAL, synchronous=NORMAL) —
 * a commit survives the coordinator's crash, and only a crash of the database server's machine
 * may lose the last fraction of a second. Waiting for the flush costs ~1.9 ms a commit here, held
 * under the event-order lock, which halved the farm's throughput (docs/BENCHMARKS.md).
 */
export async function openDatabase(target: string, options: DatabaseOptions = {}): Promise<OpenedDatabase> {
  if (isPostgresUrl(target)) return openPostgres(target, options);
  return { db: await openSqlite(target, options.onDiskFull), dialect: 'sqlite', location: target };
}

const ignoreDiskFull = () => {};

/**
 * How long PostgreSQL lets a coordinator's session sit idle inside a transaction before it ends
 * the session. A coordinator frozen mid-transaction (SIGSTOP, a stalled VM) holds what that
 * transaction locked, the event-order lock or a singleton's row among them, until then: no
 * longer than a singleton's lease (replicas/replica-loops.ts), so the other replicas take over
 * its loops when the lease runs out, not a minute later. A store transaction idles for
 * milliseconds between statements; a digest-lock section, which holds its transaction while
 * other work runs, pings it well within this (digest-lock-records.ts).
 */
export const IDLE_IN_TRANSACTION_MS = 15_000;

/**
 * Opens the embedded SQLite store and brings its schema up to date. WAL with synchronous=NORMAL:
 * a committed transaction survives a crash of the coordinator process (not of the machine's
 * power), which is the promise the API makes for accepted pushes, results and log lines.
 */
export async function openSqlite(
  file: string,
  onDiskFull: (error: StoreError) => void = ignoreDiskFull,
): Promise<Kysely<Database>> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: withDiskFullErrors(new SqliteDialect({ database: withStatementCache(sqlite) }), onDiskFull),
  });
  // Kysely's migrator takes no lock on SQLite: two coordinators starting on one file would both
  // create the tables. Holding the write lock while migrating makes the second wait, then find
  // the schema current.
  await beginImmediate(sqlite);
  try {
    await migrate(db, 'sqlite', file);
    sqlite.exec('commit');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('rollback');
    await db.destroy();
    throw error;
  }
  return db;
}

const MIGRATION_WAIT_MS = 600_000;

/**
 * Takes SQLite's write lock, waiting without blocking the event loop: migrating a large farm may
 * take longer than the busy timeout, and the holder may be in this very process.
 */
async function beginImmediate(sqlite: SqliteDatabase.Database): Promise<void> {
  const deadline = Date.now() + MIGRATION_WAIT_MS;
  sqlite.pragma('busy_timeout = 0');
  try {
    for (;;) {
      try {
        sqlite.exec('begin immediate');
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
        await setTimeout(50);
      }
    }
  } finally {
    sqlite.pragma('busy_timeout = 5000');
  }
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<OpenedDatabase> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  const synchronousCommit = parsed.searchParams.get('synchronous_commit') ?? 'off';
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('synchronous_commit');
  const location = redactPassword(parsed);
  const settings = [`-c synchronous_commit=${synchronousCommit}`];
  if (schema !== null) settings.push(`-c search_path=${quoteIdentifier(schema)}`);
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    application_name: options.applicationName ?? `switchyard-coordinator ${process.pid}`,
    options: settings.join(' '),
    types: { getTypeParser: numbersAsNumbers },
    // Queries are written as they are given; Kysely still sends one at a time on a connection,
    // except where pipelined-transaction.ts sends BEGIN or COMMIT along with a statement.
    pipeline: true,
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  pool.on('release', (_error, client) => forgetPendingBegin(client as pg.PoolClient));
  // pg-pool hears a client's 'error' only while the client is idle in the pool. A session that
  // ends while checked out (the server's idle-in-transaction timeout ended a stalled holder of a
  // digest lock, or the server restarted) would emit it unheard, which crashes the process. The
  // holder learns of it anyway: its next statement on that client fails with it.
  const prepared = new PreparedStatements();
  pool.on('connect', (client) => {
    client.on('error', () => {});
    prepared.adopt(client as pg.PoolClient);
    pipelineTransactionEnds(client as pg.PoolClient);
  });
  const db = new Kysely<Database>({
    dialect: withDiskFullErrors(new CurrentSchemaPostgresDialect({ pool }), options.onDiskFull ?? ignoreDiskFull),
  });
  try {
    await migrate(db, 'postgres', location);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect: 'postgres', location };
}

/** On PostgreSQL Kysely's migrator runs in one transaction under an advisory lock. */
async function migrate(db: Kysely<Database>, dialect: DialectName, location: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`cannot migrate the database ${location}: ${failed?.migrationName ?? ''} ${String(error)}`, {
      cause: error,
    });
  }
}

const INT8 = 20;
const NUMERIC = 1700;

/**
 * Ids, epoch milliseconds and counts are bigint on PostgreSQL, which pg returns as strings to be
 * safe past 2^53; the farm's values stay far below that, and SQLite gives numbers. Sums of
 * bigints are numeric. Set per pool, not globally, so other pg users in the process are untouched.
 */
function numbersAsNumbers(oid: number, format?: 'text' | 'binary') {
  if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
  return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function redactPassword(url: URL): string {
  if (url.password === '') return url.toString();
  const shown = new URL(url);
  shown.password = '***';
  return shown.toString();
}
