import type { Kysely, QueryCreator } from 'kysely';
import { dialectOf } from './dialect.ts';
import { LOG_IN_CHUNKS } from './partial-indexes.ts';
import type { ArchivedLog, ClaimedLog, LegacyLog, LogBatch, LogChunk, LogStore, StepLogState } from './port.ts';
import type { Database } from './schema.ts';
import type { Store } from './store.ts';
import { recordLogBatch } from './worker-reports.ts';

/**
 * Step logs in the database: the running step's batches as rows of `log_chunks`, written in the
 * transaction that moves the step's log on, and the compacted log's place in the archive on the
 * step's row. Any coordinator may append, read or compact.
 */
export class LogRecords implements LogStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly core: Store,
    private readonly clock: () => number,
  ) {}

  async stepLogState(attemptId: number, index: number): Promise<StepLogState | null> {
    const row = await this.db
      .selectFrom('steps')
      .innerJoin('attempts', 'attempts.id', 'steps.attempt_id')
      .select(['steps.log_bytes', 'steps.log_seq', 'steps.log_compressed', 'attempts.state', 'attempts.job_id'])
      .where('steps.attempt_id', '=', attemptId)
      .where('steps.idx', '=', index)
      .executeTakeFirst();
    if (!row) return null;
    return {
      bytes: row.log_bytes,
      seq: row.log_seq,
      attemptState: row.state,
      jobId: row.job_id,
      compressed: row.log_compressed === 1,
    };
  }

  async append(attemptId: number, index: number, batch: LogBatch): Promise<{ bytes: number; cancel: boolean }> {
    // Its first statement (requireAttempt) reads the database's time: no extra round trip per batch.
    // The batch's followers are woken after the commit (LogSignal).
    return this.core.write((ctx) => recordLogBatch(ctx, attemptId, index, batch), true);
  }

  async chunks(attemptId: number, index: number, from: number, limit: number): Promise<LogChunk[]> {
    // The chunk holding `from` starts at or before it: the last one to start there, and all after.
    // Chunks are never empty, so from the start that is the first chunk there is: no look-up.
    const first =
      from === 0
        ? undefined
        : await this.db
            .selectFrom('log_chunks')
            .select('seq')
            .where('attempt_id', '=', attemptId)
            .where('idx', '=', index)
            .where('offset', '<=', from)
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirst();
    const rows = await this.db
      .selectFrom('log_chunks')
      .select(['seq', 'offset', 'data'])
      .where('attempt_id', '=', attemptId)
      .where('idx', '=', index)
      .where('seq', '>=', first?.seq ?? 0)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ seq: row.seq, offset: Number(row.offset), data: Buffer.from(row.data) }));
  }

  async claimCompactions(attemptId: number, holdMs: number, indexes?: readonly number[]): Promise<ClaimedLog[]> {
    if (indexes?.length === 0) return [];
    const now = this.clock();
    // One statement: of coordinators racing for the same log, the one whose update matched holds it.
    let claim = this.db
      .updateTable('steps')
      .set({ log_compacting_until: now + holdMs })
      .where('attempt_id', '=', attemptId)
      .where('log_compressed', '=', 0)
      .where((eb) => eb.or([eb('log_compacting_until', 'is', null), eb('log_compacting_until', '<', now)]));
    if (indexes) claim = claim.where('idx', 'in', indexes);
    const rows = await claim.returning(['idx', 'log_bytes', 'log_compressed', 'log_archive']).execute();
    // RETURNING promises no order.
    return rows.sort((a, b) => a.idx - b.idx);
  }

  async recordCompacted(
    attemptId: number,
    index: number,
    bytes: number,
    archive: ArchivedLog | null,
  ): Promise<boolean> {
    const name = (db: QueryCreator<Database>) =>
      db
        .updateTable('steps')
        .set({ log_compressed: 1, log_archive: archive ? JSON.stringify(archive) : null, log_compacting_until: null })
        .where('attempt_id', '=', attemptId)
        .where('idx', '=', index)
        .where('log_compressed', '=', 0)
        .where('log_bytes', '=', bytes);
    // The archive is named before the chunks go, atomically: a crash keeps one or the other.
    if (dialectOf(this.db) === 'postgres') {
      // One statement, its own transaction: the chunks go only if the step's update matched.
      const named = await this.db
        .with('named', (db) => name(db).returning('idx'))
        .with('removed', (db) =>
          db
            .deleteFrom('log_chunks')
            .where('attempt_id', '=', attemptId)
            .where('idx', '=', index)
            .where((eb) => eb.exists(eb.selectFrom('named').select('idx'))),
        )
        .selectFrom('named')
        .select('idx')
        .executeTakeFirst();
      return named !== undefined;
    }
    // SQLite has no data-modifying CTE: a transaction of the two.
    return this.db.transaction().execute(async (trx) => {
      const updated = await name(trx).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await trx.deleteFrom('log_chunks').where('attempt_id', '=', attemptId).where('idx', '=', index).execute();
      return true;
    });
  }

  async legacyLogs(after: { attemptId: number; index: number } | null, limit: number): Promise<LegacyLog[]> {
    let query = this.db
      .selectFrom('steps')
      .select(['attempt_id', 'idx', 'log_bytes'])
      .where('log_compressed', '=', 1)
      .where('log_archive', 'is', null)
      .where('log_bytes', '>', 0);
    if (after) {
      const { attemptId, index } = after;
      query = query.where((eb) =>
        eb.or([eb('attempt_id', '>', attemptId), eb.and([eb('attempt_id', '=', attemptId), eb('idx', '>', index)])]),
      );
    }
    const rows = await query.orderBy('attempt_id').orderBy('idx').limit(limit).execute();
    return rows.map((row) => ({ attemptId: row.attempt_id, index: row.idx, bytes: row.log_bytes }));
  }

  async recordImported(attemptId: number, index: number, archive: ArchivedLog): Promise<boolean> {
    const updated = await this.db
      .updateTable('steps')
      .set({ log_archive: JSON.stringify(archive) })
      .where('attempt_id', '=', attemptId)
      .where('idx', '=', index)
      .where('log_compressed', '=', 1)
      .where('log_archive', 'is', null)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  async attemptsWithRawLogs(endedBefore?: number): Promise<number[]> {
    let query = this.db
      .selectFrom('steps')
      .innerJoin('attempts', 'attempts.id', 'steps.attempt_id')
      .select('steps.attempt_id')
      .distinct()
      .where('steps.log_compressed', '=', LOG_IN_CHUNKS)
      .where('attempts.state', '!=', 'running');
    if (endedBefore !== undefined) query = query.where('attempts.finished_at', '<', endedBefore);
    const rows = await query.orderBy('steps.attempt_id').execute();
    return rows.map((r) => r.attempt_id);
  }
}
