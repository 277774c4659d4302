import {
  ApiError,
  LogIndex,
  LogIndexQuery,
  LogLines,
  LogLinesQuery,
  LogSearch,
  LogSearchQuery,
  MAX_LOG_RANGE_LINES,
} from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';

const JobParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
/** Past this, a search is a scan of the whole log with little to read: say it was cut. */
const MAX_SEARCH_HITS = 100_000;

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
