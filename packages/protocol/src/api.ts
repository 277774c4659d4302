import Type from 'typebox';
import { ArtifactSpec, FetchSpec } from './artifacts.ts';
import { PUSH_RESULTS } from './push-result.ts';
import { AttemptSigning, SigningSummary, SignSpec } from './signing.ts';
import { ATTEMPT_RESULTS, ATTEMPT_STATES, JOB_STATES, STEP_STATES, WORKER_STATES } from './states.ts';
import { BRANCH_PATTERN, Line, NAME_PATTERN, Text } from './text.ts';

const literals = <const T extends readonly string[]>(values: T) => Type.Enum<[...T]>([...values]);

const Id = Type.Integer({ minimum: 1 });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
/** A time, or null until it happens: `description` says what happens. */
const TimeOrNull = (description: string) => Type.Union([Time, Type.Null()], { description });
const IntOrNull = (description: string) => Type.Union([Type.Integer(), Type.Null()], { description });
const StringOrNull = (description: string) => Type.Union([Type.String(), Type.Null()], { description });
const StringMap = Type.Record(Type.String(), Type.String());
/** Tags a worker sends: they reach the scheduler's reasons, logs and the dashboard. */
const TagMap = Type.Record(Type.String(), Line({ maxLength: 200 }), {
  propertyNames: Line({ minLength: 1, maxLength: 100 }),
});

export const JobStateSchema = literals(JOB_STATES);
export const Revision = Type.String({
  pattern: '^[0-9a-f]{7,64}$',
  description: 'commit id, lower-case hex (abbreviated ids are accepted)',
});
export const BranchName = Type.String({ minLength: 1, maxLength: 255, pattern: BRANCH_PATTERN });
/** A repo as the config names it. */
export const RepoName = Type.String({ minLength: 1, maxLength: 100, pattern: NAME_PATTERN });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse' },
);

// ---- pushes and jobs -----------------------------------------------------------------------

export const CreatePushRequest = Type.Object(
  {
    repo: RepoName,
    branch: BranchName,
    revision: Revision,
    author: Type.Optional(Line({ maxLength: 500 })),
    message: Type.Optional(Text({ maxLength: 65536 })),
    files: Type.Optional(Type.Array(Line({ maxLength: 4096 }), { maxItems: 100000 })),
    exact: Type.Optional(
      Type.Boolean({ description: 'true: this revision itself must be built; its jobs are never coalesced' }),
    ),
  },
  { additionalProperties: false },
);

export const JobSummary = Type.Object({
  id: Id,
  builder: Type.String({ description: 'the builder the job runs' }),
  state: JobStateSchema,
  attemptCount: Type.Integer({ minimum: 0, description: 'attempts started so far' }),
});

export const Push = Type.Object(
  {
    id: Id,
    repo: Type.String({ description: 'the repository, as the farm config names it' }),
    branch: Type.String(),
    revision: Type.String({ description: 'the commit id' }),
    author: Type.String({ description: 'as pushed; empty when not given' }),
    message: Type.String({ description: 'as pushed; empty when not given' }),
    files: Type.Array(Type.String(), { description: 'the changed files, as pushed' }),
    createdAt: Time,
    jobs: Type.Array(JobSummary, { description: 'one per builder that matched, in config order' }),
  },
  { description: 'a push, as GET /api/v1/pushes/{id} answers it' },
);

export const Job = Type.Object(
  {
    id: Id,
    pushId: Type.Integer({ minimum: 1, description: 'the push it belongs to' }),
    repo: Type.String(),
    branch: Type.String(),
    revision: Type.String({ description: 'the commit id' }),
    author: Type.String(),
    builder: Type.String(),
    pool: Type.String({ description: 'the workers that may run it' }),
    state: JobStateSchema,
    reason: Type.Union([Type.String({ description: 'why the job is in its state, e.g. worker-lost' }), Type.Null()]),
    attemptCount: Type.Integer({ minimum: 0, description: 'attempts started so far' }),
    maxAttempts: Type.Integer({ minimum: 1, description: 'attempts it gets before an exception is final' }),
    dependsOn: Type.Array(Id, { description: "the jobs of its builder's `after` in the same push" }),
    retriggeredFrom: IntOrNull('for a retriggered job: the job it runs again'),
    priority: Type.Integer({ description: 'branch priority plus builder offset; lower runs first' }),
    exact: Type.Boolean({ description: 'pushed with exact: never coalesced' }),
    coalescedInto: Type.Union([Id, Type.Null()], {
      description: 'for a coalesced job: the job that ran in its place and whose result stands for it',
    }),
    worker: StringOrNull('the worker running or last running it'),
    createdAt: Time,
    pendingAt: TimeOrNull('when it became ready to run'),
    startedAt: TimeOrNull('when its current or last attempt started'),
    finishedAt: TimeOrNull('when it became final'),
    durationMs: IntOrNull('from started to finished'),
  },
  { description: 'a job, as GET /api/v1/jobs/{id} answers it (without attempts)' },
);

export const Step = Type.Object(
  {
    index: Type.Integer({
      minimum: 0,
      description: 'its place in the attempt, from 0 (the checkout, when there is one)',
    }),
    name: Type.String(),
    state: literals(STEP_STATES),
    exitCode: IntOrNull("the command's exit code, once it exited"),
    signal: StringOrNull('the signal that ended the command, e.g. SIGKILL'),
    startedAt: Time,
    finishedAt: TimeOrNull('when it ended'),
    durationMs: IntOrNull('from started to finished'),
    logBytes: Type.Integer({ minimum: 0, description: 'bytes of log stored for it' }),
  },
  { description: 'a step of an attempt' },
);

/** Where a worker's time went before the job's own steps, in milliseconds. */
export const AttemptTimings = Type.Object(
  {
    lockMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'waiting for another checkout of the store or tree' }),
    ),
    fetchMs: Type.Optional(Type.Integer({ minimum: 0, description: 'fetching what the repository store lacked' })),
    checkoutMs: Type.Optional(Type.Integer({ minimum: 0, description: 'writing the files that differ' })),
    cleanMs: Type.Optional(
      Type.Integer({ minimum: 0, description: "removing an earlier job's untracked and ignored files" }),
    ),
    toolsMs: Type.Optional(Type.Integer({ minimum: 0, description: "fetching the builder's tools" })),
  },
  { additionalProperties: false },
);

export const Attempt = Type.Object({
  id: Id,
  number: Type.Integer({ minimum: 1, description: "1 for the job's first attempt, then 2, …" }),
  worker: Type.String({ description: 'the worker that ran it' }),
  state: literals(ATTEMPT_STATES),
  reason: StringOrNull('for an exception: what kind, e.g. worker-lost or timeout'),
  message: StringOrNull('for an exception: what happened, in words'),
  startedAt: Time,
  finishedAt: TimeOrNull('when it ended'),
  durationMs: IntOrNull('from started to finished'),
  leaseExpiresAt: TimeOrNull('while running: past this without a heartbeat, the attempt is lost'),
  timings: Type.Union([AttemptTimings, Type.Null()], { description: 'as the worker reported them' }),
  steps: Type.Array(Step),
});

export const SchedulingView = Type.Object({
  waitingBecause: Type.Union([
    Type.String({ description: 'for a pending job: why it has no worker yet' }),
    Type.Null(),
  ]),
  chosenBecause: Type.Union([
    Type.String({ description: 'once claimed: why the scheduler gave it to that worker' }),
    Type.Null(),
  ]),
  queuePosition: Type.Union([
    Type.Integer({ minimum: 1, description: "for a pending job: its place in its pool's queue" }),
    Type.Null(),
  ]),
  effectivePriority: Type.Union([
    Type.Number({ description: 'for a pending job: its priority improved by aging' }),
    Type.Null(),
  ]),
});

export const JobDetail = Type.Intersect([
  Job,
  Type.Object({ attempts: Type.Array(Attempt), scheduling: SchedulingView }),
]);

export const WarmCacheReport = Type.Object(
  {
    repo: Line({ maxLength: 100 }),
    builder: Line({ maxLength: 100 }),
    branch: Line({ maxLength: 255 }),
    at: Time,
  },
  { additionalProperties: false },
);

export const Worker = Type.Object(
  {
    name: Type.String(),
    pool: Type.String(),
    tags: Type.Record(Type.String(), Type.String(), { description: 'as the worker was started with (--tag)' }),
    state: literals(WORKER_STATES),
    currentJob: IntOrNull('the job it is running'),
    currentAttempt: IntOrNull('the attempt it is running'),
    version: StringOrNull('the Switchyard version it reported'),
    firstSeen: Time,
    lastSeen: Time,
    warm: Type.Array(WarmCacheReport, { description: 'builders and branches it recently succeeded on' }),
    speed: Type.Union([
      Type.Number({
        description: "learned duration relative to builders' medians: 0.7 = takes 70 % of the typical time",
      }),
      Type.Null(),
    ]),
    exceptionStreak: Type.Integer({ minimum: 0, description: 'attempts in a row that ended in exception' }),
    benchedUntil: Type.Union([Time, Type.Null()], {
      description: 'after exceptions it gets no work until then (10 s doubling up to 1 h)',
    }),
  },
  { description: 'a worker, as GET /api/v1/workers lists it' },
);

export const ListPushesQuery = Type.Object({
  repo: Type.Optional(Line()),
  branch: Type.Optional(Line()),
  author: Type.Optional(
    Type.String({ minLength: 1, maxLength: 500, description: 'pushes whose author contains this, ignoring case' }),
  ),
  revision: Type.Optional(
    Type.String({ pattern: '^[0-9a-fA-F]{1,64}$', description: 'pushes whose revision starts with this' }),
  ),
  result: Type.Optional(literals(PUSH_RESULTS)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(Id),
});

export const PushList = Type.Object({
  pushes: Type.Array(Push),
  next: Type.Union([Id, Type.Null()], {
    description: 'the next page is `before=` this; null: no older push matches',
  }),
  cursor: Type.Integer({
    minimum: 0,
    description: 'the list shows every event up to this id: the event stream from here keeps it current',
  }),
});

export const ListJobsQuery = Type.Object({
  state: Type.Optional(Line({ description: 'job states separated by , or |' })),
  repo: Type.Optional(Line()),
  branch: Type.Optional(Line()),
  builder: Type.Optional(Line()),
  pool: Type.Optional(Line()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  before: Type.Optional(Id),
});

export const LogQuery = Type.Object({
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  follow: Type.Optional(literals(['1', 'true', '0', 'false'] as const)),
  stream: Type.Optional(literals(['stdout', 'stderr', 'header'] as const)),
});

// ---- the worker protocol -------------------------------------------------------------------

export const ClaimRequest = Type.Object(
  {
    pool: Type.String({ minLength: 1, maxLength: 100, pattern: NAME_PATTERN }),
    tags: Type.Optional(TagMap),
    version: Type.Optional(Line({ maxLength: 100 })),
    instance: Type.Optional(
      Line({
        minLength: 1,
        maxLength: 100,
        description: 'a random id the worker process picks at start; tells a restart from a name clash',
      }),
    ),
    waitSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 120 })),
    warm: Type.Optional(
      Type.Array(WarmCacheReport, {
        maxItems: 100,
        description: 'what its caches hold: builders and branches it recently succeeded on',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StepSpec = Type.Object({
  name: Type.String(),
  run: Type.String(),
  env: StringMap,
  timeoutSeconds: Type.Integer({ minimum: 1 }),
});

/** Everything a worker needs to run a job, frozen when the push created it. */
export const JobSpec = Type.Object({
  id: Id,
  pushId: Id,
  repo: Type.Object({
    name: Type.String(),
    url: Type.String(),
    vcs: Type.Optional(Type.Enum(['git', 'hg'], { description: 'default git' })),
  }),
  branch: Type.String(),
  revision: Type.String(),
  builder: Type.String(),
  checkout: Type.Boolean(),
  sparse: Type.Optional(Type.Array(Type.String(), { description: 'directories of a sparse checkout' })),
  depth: Type.Optional(Type.Integer({ minimum: 1, description: 'commits of history to fetch' })),
  tools: Type.Optional(Type.String({ description: 'tooltool manifest in the repository, fetched before the steps' })),
  env: StringMap,
  steps: Type.Array(StepSpec),
  artifacts: Type.Optional(Type.Array(ArtifactSpec, { description: 'uploaded after the steps succeed' })),
  fetch: Type.Optional(Type.Array(FetchSpec, { description: 'downloaded before the steps' })),
  sign: Type.Optional(
    Type.Array(SignSpec, { description: 'signed by the signing service after the steps, before uploads' }),
  ),
});

export const Assignment = Type.Object({
  attemptId: Id,
  attemptNumber: Type.Integer({ minimum: 1 }),
  leaseSeconds: Type.Integer({ minimum: 1 }),
  heartbeatSeconds: Type.Integer({ minimum: 1 }),
  job: JobSpec,
  attemptToken: Type.String({
    description:
      "the attempt's own credential: the bearer of its reports, log, uploads and the reads it needs; refused once the attempt has ended",
  }),
  signing: Type.Optional(AttemptSigning),
});

export const ClaimResponse = Type.Object({ assignment: Type.Union([Assignment, Type.Null()]) });

export const HeartbeatResponse = Type.Object({
  cancel: Type.Boolean({ description: 'true: the job was cancelled; stop its steps and report' }),
  leaseExpiresAt: Time,
  heldMs: Type.Integer({
    minimum: 0,
    description: 'how long the request was held; the lease was renewed that long after it arrived',
  }),
});

export const StepStartedRequest = Type.Object(
  { name: Line({ minLength: 1, maxLength: 200 }), startedAt: Time },
  { additionalProperties: false },
);

export const StepFinishedRequest = Type.Object(
  {
    exitCode: NullableInt,
    signal: NullableString,
    timedOut: Type.Boolean(),
    cancelled: Type.Boolean(),
    finishedAt: Time,
  },
  { additionalProperties: false },
);

export const AttemptFinishedRequest = Type.Object(
  {
    result: literals(ATTEMPT_RESULTS),
    reason: Type.Optional(Line({ maxLength: 100, description: 'e.g. timeout, checkout-failed, cancelled' })),
    message: Type.Optional(Type.String({ maxLength: 10000 })),
    finishedAt: Time,
    timings: Type.Optional(AttemptTimings),
    signing: Type.Optional(SigningSummary),
  },
  { additionalProperties: false },
);

const StepIndex = Type.Integer({ minimum: 0, maximum: 1000 });

/**
 * One of the reports an attempt's outbox holds, as an entry of a batch: what the routes
 * `steps/:index/started`, `log`, `steps/:index/finished` and `finished` take one at a time.
 * A log entry's frames are base64; the worker batches only small ones (large batches keep
 * their binary request).
 */
export const ReportEntry = Type.Union([
  Type.Object(
    { kind: Type.Literal('step-started'), index: StepIndex, ...StepStartedRequest.properties },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('log'),
      step: StepIndex,
      seq: Type.Integer({ minimum: 0 }),
      frames: Type.String({
        maxLength: 400_000,
        description: 'log frames (application/vnd.switchyard.log-frames), base64',
      }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('step-finished'), index: StepIndex, ...StepFinishedRequest.properties },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('attempt-finished'), ...AttemptFinishedRequest.properties },
    { additionalProperties: false },
  ),
]);

/** Several reports of one attempt, applied in order in one transaction: all of them, or none. */
export const AttemptReportRequest = Type.Object(
  { entries: Type.Array(ReportEntry, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export const AttemptReportResponse = Type.Object({
  cancel: Type.Boolean({ description: 'true: the job was cancelled; stop its steps and report' }),
});

/**
 * A claim that first delivers the reports its worker still holds of the attempt it just ended,
 * saving the round trips between one job and the next. Workers that don't send `report` claim
 * as before.
 */
export const ClaimAfterReportRequest = Type.Object(
  {
    ...ClaimRequest.properties,
    report: Type.Optional(
      Type.Object(
        {
          attemptId: Id,
          attemptToken: Type.String({ description: 'the credential the claim that started the attempt gave' }),
          ...AttemptReportRequest.properties,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ClaimAfterReportResponse = Type.Object({
  assignment: Type.Union([Assignment, Type.Null()]),
  reportRefused: Type.Optional(
    Type.Object(
      { code: Type.String(), message: Type.String() },
      { description: 'the report was not applied (the claim was): the worker logs it and drops the report' },
    ),
  ),
});

export const LogAppendQuery = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  seq: Type.Integer({ minimum: 0, description: 'batch number within the step, from 0; repeats are ignored' }),
});

export const LogAppendResponse = Type.Object({
  bytes: Type.Integer({ minimum: 0, description: 'bytes stored for this step so far' }),
  cancel: Type.Boolean(),
});

export const ServerInfo = Type.Object({
  name: Type.Literal('switchyard'),
  version: Type.String(),
  auth: Type.Boolean(),
  publicRead: Type.Boolean(),
  pools: Type.Array(Type.String()),
  builders: Type.Array(Type.Object({ name: Type.String(), repo: Type.String(), pool: Type.String() })),
});

export type CreatePushRequest = Type.Static<typeof CreatePushRequest>;
export type JobSummary = Type.Static<typeof JobSummary>;
export type Push = Type.Static<typeof Push>;
export type ListPushesQuery = Type.Static<typeof ListPushesQuery>;
export type PushList = Type.Static<typeof PushList>;
export type Job = Type.Static<typeof Job>;
export type Step = Type.Static<typeof Step>;
export type Attempt = Type.Static<typeof Attempt>;
export type AttemptTimings = Type.Static<typeof AttemptTimings>;
export type JobDetail = Type.Static<typeof JobDetail>;
export type SchedulingView = Type.Static<typeof SchedulingView>;
export type WarmCacheReport = Type.Static<typeof WarmCacheReport>;
export type Worker = Type.Static<typeof Worker>;
export type ClaimRequest = Type.Static<typeof ClaimRequest>;
export type StepSpec = Type.Static<typeof StepSpec>;
export type JobSpec = Type.Static<typeof JobSpec>;
export type Assignment = Type.Static<typeof Assignment>;
export type ClaimResponse = Type.Static<typeof ClaimResponse>;
export type HeartbeatResponse = Type.Static<typeof HeartbeatResponse>;
export type StepStartedRequest = Type.Static<typeof StepStartedRequest>;
export type StepFinishedRequest = Type.Static<typeof StepFinishedRequest>;
export type AttemptFinishedRequest = Type.Static<typeof AttemptFinishedRequest>;
export type LogAppendResponse = Type.Static<typeof LogAppendResponse>;
export type ReportEntry = Type.Static<typeof ReportEntry>;
export type AttemptReportRequest = Type.Static<typeof AttemptReportRequest>;
export type AttemptReportResponse = Type.Static<typeof AttemptReportResponse>;
export type ClaimAfterReportRequest = Type.Static<typeof ClaimAfterReportRequest>;
export type ClaimAfterReportResponse = Type.Static<typeof ClaimAfterReportResponse>;
export type ServerInfo = Type.Static<typeof ServerInfo>;
