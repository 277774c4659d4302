import { CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.ts';

/** A statement text ending so goes out with its transaction's COMMIT behind it (commitWith). */
const THEN_COMMIT = '\n-- then commit';
/** This text alone opens a transaction with the next statement (beginWithNextStatement). */
const BEGIN_WITH_NEXT = '-- begin with the next statement';

type Connection = Pick<Kysely<Database>, 'executeQuery'>;

/**
 * Opens a PostgreSQL transaction on this connection without a round trip of its own: BEGIN goes
 * out with the transaction's first statement. A transaction ended before any statement was
 * sent sends nothing at all.
 */
export async function beginWithNextStatement(connection: Connection): Promise<void> {
  await connection.executeQuery(CompiledQuery.raw(BEGIN_WITH_NEXT));
}

/**
 * Runs a PostgreSQL transaction's last statement with its COMMIT sent right behind it, answered
 * with the statement's rows. That last statement is the event insert, which takes the
 * event-order lock (dialect.ts insertEvents): were the COMMIT sent after the insert's answer,
 * the lock would stay held while that answer travels back, waits its turn in a busy event loop,
 * and the COMMIT travels out. The statement's failure throws (its COMMIT then ends an aborted
 * transaction, which the caller rolls back as after any failed statement); so does the COMMIT's.
 */
export async function commitWith<Row>(connection: Connection, statement: CompiledQuery<Row>): Promise<Row[]> {
  const { rows } = await connection.executeQuery<Row>(
    CompiledQuery.raw(statement.sql + THEN_COMMIT, [...statement.parameters]),
  );
  return rows;
}

/** Commits a PostgreSQL transaction that has no statement left to send with its COMMIT. */
export async function commitAlone(connection: Connection): Promise<void> {
  const { rows } = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'));
  refuseRolledBack(rows[0]?.command);
}

/** PostgreSQL answers COMMIT with ROLLBACK when a failed statement left the transaction aborted. */
function refuseRolledBack(command: string | undefined): void {
  if (command === 'ROLLBACK') throw new Error('the transaction was aborted by a failed statement');
}

interface PipelineState {
  beginPending: boolean;
}
const states = new WeakMap<pg.PoolClient, PipelineState>();

/**
 * Makes a pool client (created with `pipeline: true`, which writes each query as it is given
 * rather than after the previous answer) send the texts above as they say: BEGIN, the statement
 * and its COMMIT written together, one round trip where there were up to three. The answers still
 * come one per query, in order; the statement's is the one handed back.
 */
export function pipelineTransactionEnds(client: pg.PoolClient): void {
  const state: PipelineState = { beginPending: false };
  states.set(client, state);
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  client.query = ((first: unknown, ...rest: unknown[]) => {
    if (typeof first !== 'string' || rest.length > 1 || typeof rest[0] === 'function') {
      return query(first, ...rest);
    }
    if (first === BEGIN_WITH_NEXT) {
      state.beginPending = true;
      return Promise.resolve(answerOf('BEGIN'));
    }
    const begin = state.beginPending;
    state.beginPending = false;
    if (begin && (first === 'commit' || first === 'rollback')) {
      return Promise.resolve(answerOf(first.toUpperCase()));
    }
    const thenCommit = first.endsWith(THEN_COMMIT);
    if (!begin && !thenCommit) return query(first, ...rest);
    const text = thenCommit ? first.slice(0, -THEN_COMMIT.length) : first;
    // Each is written as soon as it is given; their answers settle in the same order.
    const began = begin ? query('begin') : null;
    const statement = query(text, ...rest);
    const committed = thenCommit ? query('commit') : null;
    return settleInOrder(began, statement, committed);
  }) as typeof client.query;
}

/** A pooled client goes back with no transaction half-opened on it (a caller that never ended one). */
export function forgetPendingBegin(client: pg.PoolClient): void {
  const state = states.get(client);
  if (state) state.beginPending = false;
}

async function settleInOrder(
  began: Promise<unknown> | null,
  statement: Promise<unknown>,
  committed: Promise<unknown> | null,
): Promise<unknown> {
  const [b, s, c] = await Promise.allSettled([began, statement, committed]);
  if (b.status === 'rejected') throw b.reason;
  if (s.status === 'rejected') throw s.reason;
  if (c.status === 'rejected') throw c.reason;
  refuseRolledBack((c.value as { command?: string } | null)?.command);
  return s.value;
}

function answerOf(command: string): Pick<pg.QueryResult, 'command' | 'rowCount' | 'rows' | 'fields'> {
  return { command, rowCount: null, rows: [], fields: [] };
}
