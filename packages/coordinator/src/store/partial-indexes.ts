import { sql } from 'kysely';

/**
 * The values the partial indexes of migrations.ts are made for, as SQL literals: a query that
 * relies on one of those indexes writes the value into its text rather than binding it. Statements
 * go to PostgreSQL as prepared statements (prepared-statements.ts), and the generic plan it settles
 * on after a statement's fifth run cannot know that `$1` is 'success', so it cannot use an index
 * made only for successful jobs: the learned speed's read of a builder's latest successes read
 * every successful job of the farm instead, for each job that ended (docs/BENCHMARKS.md).
 */
export const PENDING = sql.lit('pending' as const);
export const RUNNING = sql.lit('running' as const);
export const SUCCEEDED = sql.lit('success' as const);
/** `log_compressed` of a step whose log is still in chunks. */
export const LOG_IN_CHUNKS = sql.lit(0 as const);
