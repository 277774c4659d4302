import type { AttemptFinishedRequest, StepFinishedRequest } from '@switchyard/protocol';
import { type QueryCreator, sql } from 'kysely';
import { dialectOf } from './dialect.ts';
import { conflict, leaseLost, StoreError } from './errors.ts';
import { type AttemptRow, type StepRow, toJob, toStep } from './mappers.ts';
import type { CheckedIn, ClaimAfterReport, LogBatch, ReportRecord } from './port.ts';
import type { Database } from './schema.ts';
import {
  firstChunk,
  insertStep,
  type StepStart,
  stepEndState,
  stepStartAt,
  stepStartRider,
  withFirstChunk,
} from './step-start.ts';
import {
  type AttemptReads,
  endAttempt,
  jobDims,
  jobRow,
  requireAttempt,
  requireAttemptWith,
  requireLiveLease,
  takesReports,
} from './transitions.ts';
import type { WriteContext } from './write-context.ts';

/**
 * A worker's reports on a running attempt, each applied inside a write the caller opened: alone
 * (one report, one transaction) or several in one transaction (`recordReport`).
 *
 * Every report is accepted while the attempt runs under a live lease or after it was cancelled
 * (the worker says how its steps ended), refused with `lease-lost` otherwise, and may be repeated: a worker resends
 * what it is not sure was received.
 */

async function requireReportable(ctx: WriteContext, attemptId: number, withJob = false) {
  const attempt = await requireAttempt(ctx, attemptId, { job: withJob });
  if (!takesReports(attempt)) throw leaseLost(attempt);
  requireLiveLease(ctx, attempt);
  return attempt;
}

/**
 * Idempotent per (attempt, index); `conflict` when the index holds another step's name. With
 * `firstBatch` (its log's batch 0, sent in the same report), a step inserted now holds that
 * batch too; with `finish` (how it ended, in the same report), it is inserted finished. Each is
 * one statement fewer than storing it after, and what was stored with the step is said in the
 * answer. A step started already takes neither here: the caller stores them as any others,
 * which tells a repeat. `ridden`: the insert went out with the attempt's read already
 * (step-start.ts, stepStartRider), and this is the row it inserted, if any.
 */
export async function recordStepStarted(
  ctx: WriteContext,
  attemptId: number,
  start: StepStart,
  ridden?: { row: StepRow | null },
): Promise<{ batch: boolean; finish: boolean }> {
  const attempt = await requireReportable(ctx, attemptId, true);
  const startState = attempt.state === 'cancelled' ? 'cancelled' : 'running';
  const chunk = firstChunk(start);
  // On PostgreSQL the first batch's chunk goes in the step's statement, stored only if the step was.
  const postgres = dialectOf(ctx.trx) === 'postgres';
  const step = ridden
    ? (ridden.row ?? undefined)
    : chunk && postgres
      ? await withFirstChunk(
          ctx.trx.with('started_step', (db) =>
            insertStep(db, attemptId, start, startState),
          ) as unknown as QueryCreator<Database>,
          chunk,
        )
          .selectFrom(sql<StepRow>`started_step`.as('started_step'))
          .selectAll()
          .executeTakeFirst()
      : await insertStep(ctx.trx, attemptId, start, startState).executeTakeFirst();
  if (!step) {
    // Inserted unless the index is taken; only then is the step read, to tell a repeat from a clash.
    const existing = await ctx.trx
      .selectFrom('steps')
      .select('name')
      .where('attempt_id', '=', attemptId)
      .where('idx', '=', start.index)
      .executeTakeFirstOrThrow();
    if (existing.name !== start.request.name) {
      throw conflict(`step ${start.index} of attempt ${attemptId} is "${existing.name}"`);
    }
    return { batch: false, finish: false };
  }
  if (chunk && !postgres) await insertChunk(ctx, attemptId, start.index, chunk);
  else if (chunk) ctx.logGrew(attemptId);
  const job = await jobRow(ctx, attempt.job_id);
  // The step as it was when it started, although it is stored finished already.
  const started = { ...step, state: startState, exit_code: null, signal: null, finished_at: null };
  await ctx.emit('step.started', { job: toJob(job), attempt: attempt.number, step: toStep(started) }, jobDims(job));
  if (start.finish) {
    await ctx.emit('step.finished', { job: toJob(job), attempt: attempt.number, step: toStep(step) }, jobDims(job));
  }
  return { batch: start.firstBatch !== undefined, finish: start.finish !== undefined };
}

async function insertChunk(ctx: WriteContext, attemptId: number, step: number, batch: LogBatch): Promise<void> {
  await ctx.trx
    .insertInto('log_chunks')
    .values({ attempt_id: attemptId, idx: step, seq: batch.seq, offset: batch.offset, data: batch.data })
    .execute();
  ctx.logGrew(attemptId);
}

/** Idempotent; `conflict` for a step never started. */
export async function recordStepFinished(
  ctx: WriteContext,
  attemptId: number,
  index: number,
  request: StepFinishedRequest,
): Promise<void> {
  const attempt = await requireReportable(ctx, attemptId, true);
  const state = stepEndState(request);
  // A step not yet finished is finished in one statement (never before it started); only when none
  // was, the step is read, to tell a repeat from a step never started.
  const finishedAt = Date.parse(request.finishedAt);
  const updated = await ctx.trx
    .updateTable('steps')
    .set({
      state,
      exit_code: request.exitCode,
      signal: request.signal,
      finished_at: sql<number>`case when started_at > ${finishedAt} then started_at else cast(${finishedAt} as bigint) end`,
    })
    .where('attempt_id', '=', attemptId)
    .where('idx', '=', index)
    .where('finished_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!updated) {
    const step = await ctx.trx
      .selectFrom('steps')
      .select('idx')
      .where('attempt_id', '=', attemptId)
      .where('idx', '=', index)
      .executeTakeFirst();
    if (!step) throw conflict(`step ${index} of attempt ${attemptId} was never started`);
    return;
  }
  const job = await jobRow(ctx, attempt.job_id);
  await ctx.emit('step.finished', { job: toJob(job), attempt: attempt.number, step: toStep(updated) }, jobDims(job));
}

/**
 * Ends the attempt and moves its job on (final, or pending again for a retry); a repeat is
 * accepted. With `claimAfter`, the claim sent with this end: whether it was checked in with it
 * (closeAttempt) is the answer.
 */
export async function recordAttemptFinished(
  ctx: WriteContext,
  attemptId: number,
  request: AttemptFinishedRequest,
  claimAfter?: ClaimAfterReport,
): Promise<CheckedIn | null> {
  const attempt = await requireAttempt(ctx, attemptId, endingReads(request));
  if (request.timings && takesReports(attempt)) {
    const timings = JSON.stringify(request.timings);
    await ctx.trx.updateTable('attempts').set({ timings }).where('id', '=', attemptId).execute();
    ctx.attempts.set(attemptId, { ...attempt, timings });
  }
  if (attempt.state === 'cancelled') {
    // The job was cancelled; the worker confirms it stopped. Keep its account of it.
    if (request.message && !attempt.message) {
      await ctx.trx.updateTable('attempts').set({ message: request.message }).where('id', '=', attemptId).execute();
      ctx.attempts.set(attemptId, { ...(ctx.attempts.get(attemptId) ?? attempt), message: request.message });
    }
    return null;
  }
  if (attempt.state !== 'running') {
    if (attempt.state === request.result && attempt.reason === (request.reason ?? null)) return null; // a repeat
    throw leaseLost(attempt);
  }
  requireLiveLease(ctx, attempt);
  if (request.signing) {
    const job = await jobRow(ctx, attempt.job_id);
    await ctx.emit(
      'signing.finished',
      { job: toJob(job), attempt: attempt.number, signing: request.signing },
      jobDims(job),
    );
  }
  return endAttempt(ctx, attempt, request.result, request.reason ?? null, {
    message: request.message ?? null,
    finishedAt: Math.max(attempt.started_at, Date.parse(request.finishedAt)),
    claimAfter,
  });
}

/** What a verb that ends an attempt reads with it (requireAttempt). */
function endingReads(request: AttemptFinishedRequest): AttemptReads {
  return { ending: request.result === 'success' ? 'success' : 'other' };
}

/**
 * Stores a step's next log batch as a chunk, as the append verb does, checked inside the
 * transaction: a repeated batch changes nothing; a later one is `log-sequence-gap`; one that does
 * not start where the stored log ends is `conflict`. The step's row moves on only from where
 * the batch starts, in one statement; only when it did not is the row read, to say why. On
 * PostgreSQL that update locks the row, so two coordinators given the same batch at once apply it
 * once: the second's update, waiting for the first's commit, matches nothing, and it reads the
 * batch stored, the repeat it is.
 */
export async function recordLogBatch(
  ctx: WriteContext,
  attemptId: number,
  step: number,
  batch: LogBatch,
): Promise<{ bytes: number; cancel: boolean }> {
  const attempt = await requireReportable(ctx, attemptId);
  const cancel = attempt.state === 'cancelled';
  const bytes = batch.offset + batch.data.length;
  const moved = await ctx.trx
    .updateTable('steps')
    .set({ log_bytes: bytes, log_seq: batch.seq + 1 })
    .where('attempt_id', '=', attemptId)
    .where('idx', '=', step)
    .where('log_seq', '=', batch.seq)
    .where('log_bytes', '=', batch.offset)
    .where('log_compressed', '=', 0)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) === 1) {
    // An empty batch (all of it past the log limit) still moves the sequence on, with no chunk.
    if (batch.data.length > 0) await insertChunk(ctx, attemptId, step, batch);
    return { bytes, cancel };
  }
  const row = await ctx.trx
    .selectFrom('steps')
    .select(['log_seq', 'log_bytes', 'log_compressed'])
    .where('attempt_id', '=', attemptId)
    .where('idx', '=', step)
    .executeTakeFirst();
  if (!row) throw conflict(`step ${step} of attempt ${attemptId} was not started`);
  if (batch.seq < row.log_seq) return { bytes: row.log_bytes, cancel };
  if (batch.seq > row.log_seq) {
    throw new StoreError('log-sequence-gap', `expected log batch ${row.log_seq} of step ${step}, got ${batch.seq}`, {
      expected: row.log_seq,
    });
  }
  // The sequence matched but the batch does not start where the stored log ends (or the log was compacted).
  throw conflict(`log batch ${batch.seq} of step ${step} does not start where its stored log ends`, {
    storedBytes: row.log_bytes,
  });
}

/**
 * Several reports of one attempt, in their order, in the caller's one transaction: all of them
 * or none. Says whether the attempt is cancelled, as each report's answer does.
 */
export async function recordReport(
  ctx: WriteContext,
  attemptId: number,
  entries: readonly ReportRecord[],
  claimAfter?: ClaimAfterReport,
): Promise<{ cancel: boolean; checkedIn?: CheckedIn }> {
  const last = entries.at(-1);
  const reads = last?.kind === 'attempt-finished' ? endingReads(last.request) : {};
  // On PostgreSQL a report's first step start goes with the attempt's read, when that read is still to come.
  const firstStart = stepStartAt(entries, 0);
  const rides = firstStart && dialectOf(ctx.trx) === 'postgres' && (ctx.awaitingNow || !ctx.attempts.has(attemptId));
  let ridden: { row: StepRow | null } | undefined;
  let read: AttemptRow | undefined;
  if (rides) {
    const locked = await requireAttemptWith(ctx, attemptId, reads, stepStartRider(attemptId, firstStart));
    read = locked.attempt;
    ridden = { row: locked.ridden };
  } else if (last?.kind === 'attempt-finished') {
    read = await requireAttempt(ctx, attemptId, reads);
  }
  if (read && last?.kind === 'attempt-finished') {
    const ended = !takesReports(read);
    // The report that ended the attempt, sent again after its answer was lost: nothing to do.
    if (ended && read.state === last.request.result && read.reason === (last.request.reason ?? null)) {
      return { cancel: false };
    }
  }
  let checkedIn: CheckedIn | undefined;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as ReportRecord;
    switch (entry.kind) {
      case 'step-started': {
        const start = stepStartAt(entries, i) as StepStart;
        const stored = await recordStepStarted(ctx, attemptId, start, i === 0 ? ridden : undefined);
        // A batch stored with the step precedes its end in the report: both were applied, or neither.
        if (stored.batch) i += 1;
        if (stored.finish) i += 1;
        break;
      }
      case 'log':
        await recordLogBatch(ctx, attemptId, entry.step, entry);
        break;
      case 'step-finished':
        await recordStepFinished(ctx, attemptId, entry.index, entry.request);
        break;
      case 'attempt-finished':
        checkedIn = (await recordAttemptFinished(ctx, attemptId, entry.request, claimAfter)) ?? undefined;
        break;
    }
  }
  const attempt = await requireAttempt(ctx, attemptId);
  return checkedIn ? { cancel: attempt.state === 'cancelled', checkedIn } : { cancel: attempt.state === 'cancelled' };
}
