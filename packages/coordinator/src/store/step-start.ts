import type { StepFinishedRequest, StepStartedRequest } from '@switchyard/protocol';
import { type Expression, type QueryCreator, sql } from 'kysely';
import type { StepRow } from './mappers.ts';
import type { LogBatch, ReportRecord } from './port.ts';
import type { Database } from './schema.ts';
import { type AttemptRider, STATES_TAKING_REPORTS } from './transitions.ts';

/**
 * A step's start as a report carries it: with its log's batch 0 and its end when those follow
 * it in the report, so that one statement stores all three (worker-reports.ts, recordStepStarted).
 */
export interface StepStart {
  index: number;
  request: StepStartedRequest;
  firstBatch?: LogBatch;
  finish?: StepFinishedRequest;
}

/** The step start at `entries[i]` with what follows it there, or undefined when that entry is not a start. */
export function stepStartAt(entries: readonly ReportRecord[], i: number): StepStart | undefined {
  const entry = entries[i];
  if (entry?.kind !== 'step-started') return undefined;
  const next = entries[i + 1];
  const firstBatch =
    next?.kind === 'log' && next.step === entry.index && next.seq === 0 && next.offset === 0 ? next : undefined;
  const after = entries[firstBatch ? i + 2 : i + 1];
  const finish = after?.kind === 'step-finished' && after.index === entry.index ? after.request : undefined;
  return { index: entry.index, request: entry.request, firstBatch, finish };
}

export function stepEndState(request: StepFinishedRequest): string {
  if (request.cancelled) return 'cancelled';
  if (request.timedOut) return 'exception';
  return request.exitCode === 0 ? 'success' : 'failure';
}

/** The batch 0 that has bytes to store as a chunk, if the start carries one. */
export function firstChunk(start: StepStart): LogBatch | undefined {
  return start.firstBatch && start.firstBatch.data.length > 0 ? start.firstBatch : undefined;
}

/**
 * The step's row as its start inserts it, each column a value or an expression. `startState`: the
 * state of a step that started and did not end (running, or cancelled in a cancelled attempt).
 */
function stepColumns(attemptId: number, start: StepStart, startState: string | Expression<string>) {
  const startedAt = Date.parse(start.request.startedAt);
  const { firstBatch, finish } = start;
  const end = finish
    ? {
        state: stepEndState(finish),
        exit_code: finish.exitCode,
        signal: finish.signal,
        // Never before it started, as recordStepFinished has it.
        finished_at: Math.max(startedAt, Date.parse(finish.finishedAt)),
      }
    : { state: startState, exit_code: null, signal: null, finished_at: null };
  return {
    attempt_id: attemptId,
    idx: start.index,
    name: start.request.name,
    started_at: startedAt,
    ...end,
    ...(firstBatch ? { log_bytes: firstBatch.data.length, log_seq: 1 } : { log_bytes: 0, log_seq: 0 }),
    log_compressed: 0,
    log_archive: null,
    log_compacting_until: null,
  };
}

/** Inserted unless the index is taken (no row then). */
export function insertStep(db: QueryCreator<Database>, attemptId: number, start: StepStart, startState: string) {
  return db
    .insertInto('steps')
    .values(stepColumns(attemptId, start, startState))
    .onConflict((oc) => oc.columns(['attempt_id', 'idx']).doNothing())
    .returningAll();
}

/**
 * On PostgreSQL, the statement storing a step's start with its first chunk: the chunk only if
 * the step was inserted (`started_step` names the row).
 */
export function withFirstChunk(query: QueryCreator<Database>, chunk: LogBatch): QueryCreator<Database> {
  // The WITH adds a table the statement's types cannot widen to.
  const typed = query as unknown as QueryCreator<Database & { started_step: StepRow }>;
  return typed.with('first_chunk', (db) =>
    db
      .insertInto('log_chunks')
      .columns(['attempt_id', 'idx', 'seq', 'offset', 'data'])
      .expression((eb) =>
        eb
          .selectFrom('started_step')
          .select(['attempt_id', 'idx', sql.lit(0).as('seq'), sql.lit(0).as('offset'), sql`${chunk.data}`.as('data')]),
      ),
  ) as unknown as QueryCreator<Database>;
}

/**
 * On PostgreSQL, a report's first step start sent in the statement that reads and locks its
 * attempt (requireAttempt): one round trip fewer for every report that starts a step. The step
 * is inserted from the locked row, and only while the attempt takes reports (running or
 * cancelled); a running attempt whose lease ran out is refused after the statement, which undoes
 * the insert with its transaction.
 */
export function stepStartRider(attemptId: number, start: StepStart): AttemptRider<StepRow> {
  const startState = sql<string>`case when locked_attempt.state = 'cancelled' then 'cancelled' else 'running' end`;
  const columns = stepColumns(attemptId, start, startState);
  const names = Object.keys(columns) as Array<keyof typeof columns>;
  const chunk = firstChunk(start);
  return {
    with(query) {
      const typed = query as unknown as QueryCreator<Database & { locked_attempt: { id: number; state: string } }>;
      const inserted = typed.with('started_step', (db) =>
        db
          .insertInto('steps')
          .columns(names)
          .expression((eb) =>
            eb
              .selectFrom('locked_attempt')
              .select(names.map((name) => asColumn(columns[name], name)))
              .where('locked_attempt.state', 'in', STATES_TAKING_REPORTS),
          )
          .onConflict((oc) => oc.columns(['attempt_id', 'idx']).doNothing())
          .returningAll(),
      ) as unknown as QueryCreator<Database>;
      return chunk ? withFirstChunk(inserted, chunk) : inserted;
    },
    result: sql<StepRow | null>`(select to_jsonb(started_step) from started_step)`,
  };
}

/** A column of an INSERT … SELECT: PostgreSQL types its parameters by the insert's columns. */
function asColumn(value: unknown, name: string) {
  return sql`${value}`.as(name);
}
