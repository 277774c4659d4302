import type { ServerResponse } from 'node:http';
import {
  ApiError,
  isFinalJobState,
  type JobState,
  LogFollowQuery,
  LogIndex,
  LogIndexQuery,
  LogLines,
  LogLinesQuery,
  LogSearch,
  LogSearchQuery,
  type LogUpdate,
  MAX_LOG_RANGE_LINES,
} from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { streamLifetime } from '../stream-lifetime.ts';

const JobParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
/** Past this, a search is a scan of the whole log with little to read: say it was cut. */
const MAX_SEARCH_HITS = 100_000;
/** A follower looks again this often even without a wake-up (a log another coordinator took in). */
const FOLLOW_POLL_MS = 2000;
/** A quiet followed log still sends a comment this often, so proxies keep the connection. */
const HEARTBEAT_MS = 15_000;

/** The log by numbered lines, for the dashboard's viewer: index (sections, errors), ranges and search. */
export function registerLogLineRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/jobs/:id/log/index',
    {
      schema: {
        operationId: 'getJobLogIndex',
        tags: ['jobs'],
        summary: "A job's log as numbered lines: how many, each step's section, and the error lines",
        params: JobParams,
        querystring: LogIndexQuery,
        response: { 200: LogIndex, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const log = await ctx.logTexts.open(request.params.id, request.query.attempt);
      const text = log.text;
      return {
        job: log.jobId,
        attempt: log.attemptNumber,
        complete: text?.complete ?? false,
        lineCount: text?.lineCount ?? 0,
        sections: [...(text?.sections ?? [])],
        errors: [...(text?.errors ?? [])],
        errorsTruncated: text?.errorsTruncated ?? false,
      };
    },
  );

  app.get(
    '/api/v1/jobs/:id/log/lines',
    {
      schema: {
        operationId: 'getJobLogLines',
        tags: ['jobs'],
        summary: `Lines from..to (from 1, inclusive, at most ${MAX_LOG_RANGE_LINES}) of a job's log, ANSI escapes kept`,
        params: JobParams,
        querystring: LogLinesQuery,
        response: { 200: LogLines, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { from, to, attempt } = request.query;
      if (to < from) throw new ApiError('invalid-request', `to (${to}) is before from (${from})`);
      if (to - from + 1 > MAX_LOG_RANGE_LINES) {
        throw new ApiError(
          'invalid-request',
          `at most ${MAX_LOG_RANGE_LINES} lines per request, asked for ${to - from + 1}`,
        );
      }
      const log = await ctx.logTexts.open(request.params.id, attempt);
      return { from, lineCount: log.text?.lineCount ?? 0, lines: (await log.text?.lines(from, to)) ?? [] };
    },
  );

  app.get(
    '/api/v1/jobs/:id/log/follow',
    {
      config: { longLived: true },
      schema: {
        operationId: 'followJobLog',
        tags: ['jobs'],
        summary:
          "Server-Sent Events: a job's log as numbered lines from `from` on, then each line as it is written, until the attempt ends (`update` messages, see LogUpdate)",
        params: JobParams,
        querystring: LogFollowQuery,
        response: { 200: Type.String({ description: 'text/event-stream of LogUpdate' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const jobId = request.params.id;
      // Fail before the stream starts if the job or attempt doesn't exist.
      await ctx.store.jobs.findAttempt(jobId, request.query.attempt);
      const lifetime = streamLifetime(request, ctx);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      try {
        await followLog(ctx, jobId, request.query, out, lifetime.signal);
      } catch (error) {
        request.log.error({ err: error }, 'following a log failed');
      } finally {
        lifetime.release();
        out.end();
      }
    },
  );

  app.get(
    '/api/v1/jobs/:id/log/search',
    {
      schema: {
        operationId: 'searchJobLog',
        tags: ['jobs'],
        summary: "Every line of a job's log that contains q (case-insensitive unless case=true)",
        params: JobParams,
        querystring: LogSearchQuery,
        response: { 200: LogSearch, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { q, attempt } = request.query;
      const matches = lineMatcher(q, request.query.case === true);
      const log = await ctx.logTexts.open(request.params.id, attempt);
      if (!log.text) return { lines: [], truncated: false };
      return log.text.search(matches, MAX_SEARCH_HITS);
    },
  );
}

function lineMatcher(q: string, caseSensitive: boolean): (line: string) => boolean {
  if (caseSensitive) return (line) => line.includes(q);
  const lower = q.toLowerCase();
  return (line) => line.toLowerCase().includes(lower);
}

/**
 * Sends a job's log (the attempt asked for, else the latest, waiting for the first if none has
 * started) as numbered lines from `from` on, then whatever is written, woken by the log's own
 * appends, until the attempt is over. Each message starts at the first line not yet sent whole,
 * so a line still being written is sent again as it grows.
 */
async function followLog(
  ctx: ApiContext,
  jobId: number,
  query: { attempt?: number | undefined; from?: number | undefined },
  out: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  let attempt = query.attempt;
  let next = query.from ?? 1;
  let errorsSent = 0;
  let sent = '';
  let lastWrite = Date.now();
  const send = async (update: LogUpdate) => {
    lastWrite = Date.now();
    if (!out.write(`event: update\ndata: ${JSON.stringify(update)}\n\n`)) await drained(out, signal);
  };
  while (!signal.aborted) {
    const found = await ctx.store.jobs.findAttempt(jobId, attempt);
    if (!found.attempt) {
      if (isFinalJobState(found.job.state as JobState)) {
        await send({
          attempt: null,
          from: 1,
          lines: [],
          lineCount: 0,
          sections: [],
          errors: [],
          errorsFrom: 0,
          errorsTruncated: false,
          complete: true,
        });
        return;
      }
      await ctx.activity.nextChange({ jobId }, signal, FOLLOW_POLL_MS);
      continue;
    }
    // The attempt is fixed once found: a retry's log is another attempt's, followed by asking for it.
    attempt = found.attempt.number;
    const changed = ctx.activity.nextChange({ jobId, attemptId: found.attempt.id }, signal, FOLLOW_POLL_MS);
    const text = (await ctx.logTexts.open(jobId, attempt)).text;
    if (text) {
      const state = `${text.lineCount}/${text.size}/${text.errors.length}/${text.complete}/${JSON.stringify(text.sections)}`;
      if (state !== sent) {
        sent = state;
        const { lineCount, complete } = text;
        let first = next;
        for (;;) {
          const last = Math.min(lineCount, first + MAX_LOG_RANGE_LINES - 1);
          const errors = text.errors.slice(errorsSent);
          await send({
            attempt,
            from: first,
            lines: first <= last ? await text.lines(first, last) : [],
            lineCount,
            sections: [...text.sections],
            errors,
            errorsFrom: errorsSent,
            errorsTruncated: text.errorsTruncated,
            complete: complete && last >= lineCount,
          });
          errorsSent += errors.length;
          if (signal.aborted || last >= lineCount) break;
          first = last + 1;
        }
        next = text.endedLines + 1;
        if (complete) return;
      } else if (Date.now() - lastWrite >= HEARTBEAT_MS) {
        lastWrite = Date.now();
        out.write(': heartbeat\n\n');
      }
    }
    await changed;
  }
}

/** Waits for a full socket to drain, or for the reader to leave (then `drain` never comes). */
function drained(out: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      out.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    signal.addEventListener('abort', done);
  });
}
