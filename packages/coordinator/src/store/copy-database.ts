import { existsSync } from 'node:fs';
import { type Kysely, sql } from 'kysely';
import { dialectOf } from './dialect.ts';
import { isPostgresUrl, openDatabase } from './open-database.ts';

/** Every table of a farm, parents before children, each with the key it is read in order of. */
const TABLES: ReadonlyArray<{ name: string; key: readonly string[]; generatedId: boolean }> = [
  { name: 'pushes', key: ['id'], generatedId: true },
  { name: 'jobs', key: ['id'], generatedId: true },
  { name: 'attempts', key: ['id'], generatedId: true },
  { name: 'steps', key: ['attempt_id', 'idx'], generatedId: false },
  { name: 'log_chunks', key: ['attempt_id', 'idx', 'seq'], generatedId: false },
  { name: 'workers', key: ['name'], generatedId: false },
  { name: 'events', key: ['id'], generatedId: true },
  { name: 'blobs', key: ['sha256'], generatedId: false },
  { name: 'artifacts', key: ['id'], generatedId: true },
  { name: 'tools', key: ['sha512'], generatedId: false },
  { name: 'tool_names', key: ['sha512', 'filename'], generatedId: false },
  { name: 'subscriptions', key: ['id'], generatedId: true },
  { name: 'deliveries', key: ['id'], generatedId: true },
  { name: 'delivery_attempts', key: ['delivery_id', 'number'], generatedId: false },
  { name: 'outbox_cursors', key: ['name'], generatedId: false },
  { name: 'sessions', key: ['id_hash'], generatedId: false },
  { name: 'farm_keys', key: ['name'], generatedId: false },
  { name: 'replicas', key: ['id'], generatedId: false },
  { name: 'singletons', key: ['name'], generatedId: false },
  { name: 'farm_settings', key: ['name'], generatedId: false },
];

/** Rows per INSERT: the widest table (jobs, 29 columns) stays well under PostgreSQL's 65,535 parameters. */
const BATCH_ROWS = 500;

type Row = Record<string, unknown>;
/** The copy moves rows it does not interpret, table by table, so it sees every table as rows of values. */
type AnyTables = Record<string, Row>;

export interface CopyOptions {
  /** Empty a target that already holds a farm, instead of refusing it. */
  force?: boolean;
  /** After each batch: rows of `table` copied so far, of `total`. */
  onProgress?: (table: string, copied: number, total: number) => void;
}

export interface CopiedTable {
  table: string;
  rows: number;
}

/** The target holds a farm already, and the copy was not told to replace it. */
export class TargetNotEmptyError extends Error {
  constructor(
    readonly target: string,
    readonly rows: CopiedTable[],
  ) {
    const held = rows.map(({ table, rows }) => `${table}: ${rows}`).join(', ');
    super(`${target} already holds a farm (${held}); copy into an empty database, or pass --force to replace it`);
  }
}

/**
 * Moves a farm's whole history from one database to another (typically the embedded SQLite file
 * to PostgreSQL, when a farm outgrows one machine): every row of every table, with its ids, so
 * event ids, cursors and links between rows stay what they were. The source is read in one
 * transaction (a consistent snapshot) and the target written in one, so a failed copy leaves the
 * target as it was. Id sequences continue after the copied ids.
 *
 * Logs and artifact bytes stay in the data directory: start the coordinator on the copy with
 * the same --data.
 */
export async function copyDatabase(from: string, to: string, options: CopyOptions = {}): Promise<CopiedTable[]> {
  if (!isPostgresUrl(from) && !existsSync(from)) throw new Error(`${from} does not exist`);
  const source = await openDatabase(from);
  try {
    const target = await openDatabase(to);
    try {
      const sourceDb = source.db as unknown as Kysely<AnyTables>;
      const targetDb = target.db as unknown as Kysely<AnyTables>;
      await assertEveryTableKnown(sourceDb);
      return await sourceDb.transaction().execute((reading) =>
        targetDb.transaction().execute(async (writing) => {
          const held = (await countRows(writing)).filter(({ rows }) => rows > 0);
          if (held.length > 0 && !options.force) throw new TargetNotEmptyError(target.location, held);
          for (const { name } of [...TABLES].reverse()) await writing.deleteFrom(name).execute();
          const totals = await countRows(reading);
          for (const { table, rows } of totals) await copyTable(reading, writing, table, rows, options.onProgress);
          await continueSequences(writing);
          return totals;
        }),
      );
    } finally {
      await target.db.destroy();
    }
  } finally {
    await source.db.destroy();
  }
}

/** A table this copy does not know (a newer migration's) would be left behind: refuse instead. */
async function assertEveryTableKnown(db: Kysely<AnyTables>): Promise<void> {
  const known = new Set(TABLES.map((table) => table.name));
  const tables = await db.introspection.getTables();
  const unknown = tables.map((table) => table.name).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`db copy does not know the tables ${unknown.join(', ')}`);
}

async function countRows(db: Kysely<AnyTables>): Promise<CopiedTable[]> {
  const counts: CopiedTable[] = [];
  for (const { name } of TABLES) {
    const row = await db
      .selectFrom(name)
      .select((eb) => eb.fn.countAll<number>().as('rows'))
      .executeTakeFirstOrThrow();
    counts.push({ table: name, rows: Number(row.rows) });
  }
  return counts;
}

/** Pages through the source in key order (keyset, so each page costs the same) and inserts each page. */
async function copyTable(
  reading: Kysely<AnyTables>,
  writing: Kysely<AnyTables>,
  table: string,
  total: number,
  onProgress: CopyOptions['onProgress'],
): Promise<void> {
  const key = TABLES.find((t) => t.name === table)?.key as readonly string[];
  let after: unknown[] | null = null;
  let copied = 0;
  for (;;) {
    let query = reading.selectFrom(table).selectAll();
    if (after) {
      const last = after;
      query = query.where(sql<boolean>`(${sql.join(key.map((column) => sql.ref(column)))}) > (${sql.join(last)})`);
    }
    for (const column of key) query = query.orderBy(column);
    const rows = await query.limit(BATCH_ROWS).execute();
    if (rows.length === 0) break;
    await writing.insertInto(table).values(rows).execute();
    copied += rows.length;
    onProgress?.(table, copied, total);
    const last = rows.at(-1) as Row;
    after = key.map((column) => last[column]);
    if (rows.length < BATCH_ROWS) break;
  }
}

/**
 * PostgreSQL's identity sequences know nothing of ids inserted explicitly: the next push would
 * take id 1 again. SQLite's AUTOINCREMENT follows the largest id inserted by itself.
 */
async function continueSequences(db: Kysely<AnyTables>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  for (const { name } of TABLES.filter((table) => table.generatedId)) {
    await sql`select setval(pg_get_serial_sequence(${name}, 'id'), coalesce(max(id), 0) + 1, false) from ${sql.table(name)}`.execute(
      db,
    );
  }
}
