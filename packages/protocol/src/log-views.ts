import Type from 'typebox';
import { STEP_STATES } from './states.ts';

/**
 * The log as the dashboard reads it: a text rendering of one attempt's steps (every stream, in
 * order, each step starting on a line of its own), numbered from line 1, read by line ranges so
 * a log of any length opens without downloading it whole.
 */
const LineNumber = Type.Integer({ minimum: 1 });
const Count = Type.Integer({ minimum: 0 });
const Attempt = Type.Optional(Type.Integer({ minimum: 1, description: 'attempt number; default the latest' }));

/** The most lines one range request returns. */
export const MAX_LOG_RANGE_LINES = 5000;

export const LogSection = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  name: Type.String(),
  state: Type.Enum([...STEP_STATES]),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  firstLine: LineNumber,
  lineCount: Count,
});

export const LogErrorLine = Type.Object({
  line: LineNumber,
  text: Type.String({ description: 'the line without ANSI escapes, cut at 500 characters' }),
});

export const LogIndexQuery = Type.Object({ attempt: Attempt });

export const LogIndex = Type.Object({
  job: Type.Integer({ minimum: 1 }),
  attempt: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'null: no attempt started yet' }),
  complete: Type.Boolean({ description: 'false while the attempt runs: more lines may come' }),
  lineCount: Count,
  sections: Type.Array(LogSection),
  errors: Type.Array(LogErrorLine, {
    description: "lines matching the farm's error patterns (logs: error_patterns), in order",
  }),
  errorsTruncated: Type.Boolean({ description: 'true: more lines matched than the list holds' }),
});

export const LogLinesQuery = Type.Object({
  attempt: Attempt,
  from: LineNumber,
  to: Type.Integer({ minimum: 1, description: `inclusive; at most ${MAX_LOG_RANGE_LINES} lines from \`from\`` }),
});

export const LogLines = Type.Object({
  from: LineNumber,
  lineCount: Type.Integer({ minimum: 0, description: 'lines in the whole log so far' }),
  lines: Type.Array(Type.String(), { description: 'raw lines (ANSI escapes kept), from `from` on' }),
});

export const LogFollowQuery = Type.Object({
  attempt: Attempt,
  from: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'the first line to send' })),
});

/**
 * One message of a followed log (`event: update`): the lines from `from` on replace what the
 * follower holds from there (the last line may still be growing, and comes again once it has
 * grown), the sections as they stand, and the error lines found since the last message.
 */
export const LogUpdate = Type.Object({
  attempt: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'null: the job ended without an attempt, so there is no log',
  }),
  from: LineNumber,
  lines: Type.Array(Type.String(), { description: `raw lines (ANSI escapes kept), at most ${MAX_LOG_RANGE_LINES}` }),
  lineCount: Count,
  sections: Type.Array(LogSection),
  errors: Type.Array(LogErrorLine, { description: 'error lines after the first `errorsFrom`' }),
  errorsFrom: Count,
  errorsTruncated: Type.Boolean(),
  complete: Type.Boolean({ description: 'true: the attempt is over and this is the last message' }),
});

/**
 * A search is for text, not a regular expression: anyone who may read logs may search them,
 * and one pathological expression would hold the coordinator's event loop for as long as it
 * backtracks.
 */
export const LogSearchQuery = Type.Object({
  attempt: Attempt,
  q: Type.String({ minLength: 1, maxLength: 1000 }),
  case: Type.Optional(Type.Boolean({ description: 'true: case-sensitive' })),
});

export const LogSearch = Type.Object({
  lines: Type.Array(LineNumber, { description: 'every matching line, in order (ANSI escapes ignored)' }),
  truncated: Type.Boolean({ description: 'true: stopped at 100,000 hits' }),
});

export type LogSection = Type.Static<typeof LogSection>;
export type LogErrorLine = Type.Static<typeof LogErrorLine>;
export type LogIndex = Type.Static<typeof LogIndex>;
export type LogLines = Type.Static<typeof LogLines>;
export type LogSearch = Type.Static<typeof LogSearch>;
export type LogUpdate = Type.Static<typeof LogUpdate>;
