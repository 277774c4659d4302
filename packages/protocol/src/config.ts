import Type, { type TStringOptions } from 'typebox';
import { SignConfig, SigningSettings } from './signing.ts';
import { SCOPES } from './states.ts';
import {
  AMQP_URL_PATTERN,
  ENV_NAME_PATTERN,
  Line,
  NAME_PATTERN,
  POSTGRES_URL_PATTERN,
  REPO_PATH_PATTERN,
  Text,
  WEBHOOK_URL_PATTERN,
} from './text.ts';

/** Names used in URLs, routing keys and file names: no spaces, slashes or dots at the start. */
function Name(options: TStringOptions = {}) {
  return Type.String({ ...options, minLength: 1, maxLength: 100, pattern: NAME_PATTERN });
}

/** A week: longer than any build should run, and within what a timer can count (2^31 ms). */
const MAX_STEP_TIMEOUT_SECONDS = 7 * 24 * 3600;

const EnvValue = Type.Union([Text(), Type.Number(), Type.Boolean()]);
const EnvName = Type.String({ pattern: ENV_NAME_PATTERN });
/** Names are checked with `propertyNames`: a record's key pattern alone lets other keys through. */
function Env(description: string) {
  return Type.Record(Type.String(), EnvValue, { propertyNames: EnvName, description });
}

export const StepConfig = Type.Object(
  {
    name: Name({
      description:
        'shown in the job view and the logs; unique within the builder (`checkout` is taken when it checks out)',
    }),
    run: Text({ minLength: 1, description: 'command line, run with /bin/sh -c in the job directory' }),
    env: Type.Optional(Env("environment variables of this step, over the builder's")),
    timeout: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_STEP_TIMEOUT_SECONDS,
        description: 'seconds; past it the job ends in exception (timeout)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** An artifact's name: the last part of its URL, so no slashes; dots are fine (`app-1.2.tar.gz`). */
const ARTIFACT_NAME = { minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$' };
export const ArtifactName = Type.String(ARTIFACT_NAME);

export const ArtifactConfig = Type.Object(
  {
    path: Line({ minLength: 1, description: 'file or glob, relative to the directory the steps run in' }),
    name: Type.Optional(
      Type.String({ ...ARTIFACT_NAME, description: 'the name it is stored and fetched under; default: the file name' }),
    ),
    optional: Type.Optional(
      Type.Boolean({ default: false, description: 'true: a missing file does not fail the job' }),
    ),
  },
  { additionalProperties: false },
);

export const FetchConfig = Type.Object(
  {
    from: Name({ description: 'a builder this one runs `after`, whose job of the same push made it' }),
    artifact: Type.String({ ...ARTIFACT_NAME, description: "the artifact's name in that job" }),
    to: Type.Optional(Line({ minLength: 1, default: '.', description: 'directory, relative to where the steps run' })),
    unpack: Type.Optional(
      Type.Boolean({ default: false, description: 'true: extract a .tar, .tar.gz, .tgz or .zip there' }),
    ),
  },
  { additionalProperties: false },
);

export const BuilderConfig = Type.Object(
  {
    name: Name({ description: 'unique in the farm; jobs, routing keys and `after` name it' }),
    repo: Name({ description: 'the `repos` entry whose pushes start it' }),
    pool: Name({ description: 'the workers that run its jobs: those started with `--pool` this name' }),
    branches: Type.Optional(
      Type.Array(Line({ minLength: 1 }), { minItems: 1, description: 'globs; omitted = every branch' }),
    ),
    after: Type.Optional(
      Type.Union([Name(), Type.Array(Name(), { minItems: 1 })], {
        description: 'builders of the same push that must succeed first',
      }),
    ),
    checkout: Type.Optional(Type.Boolean({ default: true, description: 'false: steps run in an empty directory' })),
    sparse: Type.Optional(
      Type.Array(Type.String({ minLength: 1, pattern: REPO_PATH_PATTERN }), {
        minItems: 1,
        description: 'git: check out only these directories (cone-mode sparse checkout)',
      }),
    ),
    depth: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'git: fetch only this many commits of history' }),
    ),
    tools: Type.Optional(
      Line({
        minLength: 1,
        description: 'a tooltool manifest in the repository; its files are fetched into the tree before the steps',
      }),
    ),
    env: Type.Optional(Env('environment variables of every step')),
    tags: Type.Optional(
      Type.Record(Type.String(), Line(), {
        propertyNames: Line({ minLength: 1 }),
        description: 'worker tags this builder requires',
      }),
    ),
    max_attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 20,
        description: 'attempts a job gets when workers fail it (exception); default: server.max_attempts',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        minimum: -100,
        maximum: 100,
        default: 0,
        description: "added to the branch's priority for this builder's jobs (lower runs first)",
      }),
    ),
    coalesce: Type.Optional(
      Type.Enum(['latest', 'never'], {
        default: 'never',
        description: 'latest: a taken job runs the newest pending one of its branch and stands for older ones',
      }),
    ),
    coalesce_limit: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 1000, default: 8, description: 'most jobs one coalesced run stands for' }),
    ),
    prefer: Type.Optional(
      Type.Enum(['fast', 'slow', 'any'], {
        description: 'which machines to use when several are free; default fast without `after`, else slow',
      }),
    ),
    artifacts: Type.Optional(
      Type.Array(Type.Union([Line({ minLength: 1 }), ArtifactConfig]), {
        description: 'files the worker uploads after the steps succeed: globs, or { path, name, optional }',
      }),
    ),
    fetch: Type.Optional(
      Type.Array(FetchConfig, { description: "artifacts of an `after` builder's job, downloaded before the steps" }),
    ),
    sign: Type.Optional(
      Type.Array(SignConfig, {
        minItems: 1,
        description: 'files signed by the signing service after the steps succeed, before uploads (needs `signing:`)',
      }),
    ),
    steps: Type.Array(StepConfig, {
      minItems: 1,
      description: 'run in order in the job directory; the first failure ends the job',
    }),
  },
  { additionalProperties: false },
);

export const RepoConfig = Type.Object(
  {
    name: Name({ description: 'what pushes and builders call the repository' }),
    url: Line({ minLength: 1, description: 'anything `git clone` (or `hg clone`) accepts' }),
    vcs: Type.Optional(Type.Enum(['git', 'hg'], { default: 'git', description: 'git or Mercurial' })),
  },
  { additionalProperties: false },
);

export const TokenConfig = Type.Object(
  {
    name: Name({ description: 'shown in logs and to the holder; unique' }),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'hex sha256 of the token' })),
    env: Type.Optional(
      Type.String({ pattern: ENV_NAME_PATTERN, description: 'environment variable holding the token' }),
    ),
    scopes: Type.Array(Type.Enum<[...typeof SCOPES]>([...SCOPES]), {
      minItems: 1,
      description: 'what the token may do: read, push, cancel, worker (claim and report jobs), admin',
    }),
  },
  { additionalProperties: false },
);

export const AuthConfig = Type.Object(
  {
    tokens: Type.Array(TokenConfig, {
      minItems: 1,
      description: 'the API tokens; each one exactly one of sha256 or env',
    }),
    public_read: Type.Optional(Type.Boolean({ default: true, description: 'true: reads need no token' })),
  },
  {
    additionalProperties: false,
    description: 'without this section no token is checked and the coordinator listens on loopback only',
  },
);

/** Blobs (artifacts, tools, completed logs) in an S3-compatible bucket rather than `blob_dir`. */
export const BlobsSettings = Type.Object(
  {
    url: Type.String({ pattern: '^s3://', description: 's3://bucket or s3://bucket/prefix' }),
    endpoint: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description: 'for S3-compatible stores (MinIO, R2, moto); default: AWS_ENDPOINT_URL_S3, else AWS',
      }),
    ),
    region: Type.Optional(Line({ minLength: 1, description: 'default: AWS_REGION, else us-east-1' })),
    force_path_style: Type.Optional(
      Type.Boolean({ description: 'bucket in the path, not the host name (default: true with an endpoint)' }),
    ),
    access_key_id_env: Type.Optional(
      Type.String({ pattern: ENV_NAME_PATTERN, description: 'environment variable holding the access key id' }),
    ),
    secret_access_key_env: Type.Optional(
      Type.String({ pattern: ENV_NAME_PATTERN, description: 'environment variable holding the secret access key' }),
    ),
    redirect_downloads: Type.Optional(
      Type.Boolean({
        description:
          'answer downloads with a 307 to a presigned URL instead of streaming them through the coordinator (default false)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ServerSettings = Type.Object(
  {
    lease_seconds: Type.Optional(
      Type.Integer({
        minimum: 5,
        maximum: 3600,
        default: 30,
        description:
          'a running attempt whose worker sends no heartbeat for this long is ended in exception and retried',
      }),
    ),
    claim_wait_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 120, default: 25, description: 'the longest a worker claim is held open' }),
    ),
    max_attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 20,
        default: 3,
        description: 'attempts a job gets when workers fail it (exception), for builders without max_attempts',
      }),
    ),
    step_timeout: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_STEP_TIMEOUT_SECONDS,
        default: 3600,
        description: 'seconds, for steps without a timeout',
      }),
    ),
    max_log_bytes: Type.Optional(
      Type.Integer({ minimum: 1024, default: 256 * 1024 ** 2, description: 'per step; output past it is dropped' }),
    ),
    artifact_expiry_days: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, default: 30, description: 'artifacts are deleted this long after upload' }),
    ),
    max_artifact_bytes: Type.Optional(
      Type.Integer({ minimum: 1, default: 8 * 1024 ** 3, description: 'the largest artifact one upload may store' }),
    ),
    blob_dir: Type.Optional(
      Line({
        minLength: 1,
        default: 'blobs',
        description: 'where artifact bytes live; relative to the data directory',
      }),
    ),
    blobs: Type.Optional(BlobsSettings),
    body_timeout_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: 30,
        description: 'a request body that sends less than min_body_bytes_per_second over this many seconds is cut off',
      }),
    ),
    min_body_bytes_per_second: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1024,
        description: 'the slowest a request body may arrive, in bytes per second',
      }),
    ),
    max_connections_per_client: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 256,
        description:
          'open connections one client address may hold; more are answered 503 and closed (0: no limit, e.g. behind a reverse proxy)',
      }),
    ),
  },
  { additionalProperties: false, description: "the coordinator's limits and timings" },
);

export const BranchPriority = Type.Object(
  {
    match: Line({ minLength: 1, description: 'branch glob, e.g. release/*; the first match wins' }),
    priority: Type.Integer({ minimum: 0, maximum: 100, description: 'lower is more important; default 4' }),
  },
  { additionalProperties: false },
);

export const SchedulingSettings = Type.Object(
  {
    aging_minutes: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 10080,
        default: 10,
        description: 'waiting this long improves a job by one priority level (0: no aging)',
      }),
    ),
    fit_band: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 10,
        default: 0.5,
        description:
          'how many priority levels behind the most urgent job a worker may take a job its caches or speed suit better',
      }),
    ),
  },
  { additionalProperties: false, description: 'how the queue orders jobs of different priorities' },
);

/** Which events a webhook receives; absent fields match everything (see EventFilter). */
export const EventFilterConfig = Type.Object(
  {
    types: Type.Optional(
      Type.Array(Line({ minLength: 1 }), {
        minItems: 1,
        description: 'event types, e.g. job.finished; a `*` matches any part',
      }),
    ),
    repo: Type.Optional(Line({ minLength: 1, description: "the event's repository" })),
    branch: Type.Optional(Line({ minLength: 1, description: "the event's branch" })),
    builder: Type.Optional(Line({ minLength: 1, description: "the event's builder" })),
    result: Type.Optional(Line({ minLength: 1, description: "a job's or push's result, e.g. failure" })),
    author: Type.Optional(Line({ minLength: 1, description: "the push's author" })),
    routing_key: Type.Optional(Line({ minLength: 1, description: 'topic pattern: `*` is one word, `#` zero or more' })),
  },
  { additionalProperties: false, description: 'which events: each field given must match; absent, every event does' },
);

export const WebhookConfig = Type.Object(
  {
    name: Name({ description: 'names its deliveries in logs, metrics and the API' }),
    url: Type.String({
      pattern: WEBHOOK_URL_PATTERN,
      description: 'where each matching event is POSTed; no user:password@ (receivers check the signature)',
    }),
    secret: Type.Optional(Type.String({ minLength: 16, description: 'signs each delivery' })),
    secret_env: Type.Optional(
      Type.String({ pattern: ENV_NAME_PATTERN, description: 'environment variable holding the secret' }),
    ),
    filter: Type.Optional(EventFilterConfig),
  },
  { additionalProperties: false },
);

export const EventsSettings = Type.Object(
  {
    webhooks: Type.Optional(
      Type.Array(WebhookConfig, { description: 'URLs each matching event is POSTed to, signed, in order, retried' }),
    ),
    webhook_retry: Type.Optional(
      Type.Object(
        {
          first_seconds: Type.Optional(
            Type.Number({ minimum: 0.05, maximum: 3600, default: 5, description: 'the wait before the first retry' }),
          ),
          max_seconds: Type.Optional(
            Type.Number({
              minimum: 0.05,
              maximum: 86400,
              default: 3600,
              description: 'the longest wait between retries, which double until then',
            }),
          ),
          give_up_hours: Type.Optional(
            Type.Number({
              exclusiveMinimum: 0,
              maximum: 720,
              default: 24,
              description: 'a delivery failing this long is dropped',
            }),
          ),
        },
        { additionalProperties: false, description: 'how failed webhook deliveries are retried' },
      ),
    ),
    amqp: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: AMQP_URL_PATTERN, description: 'amqp://user:password@host:5672/vhost' }),
          exchange: Line({ minLength: 1, maxLength: 255, description: 'a topic exchange, declared durable' }),
        },
        { additionalProperties: false, description: 'an AMQP 0-9-1 broker (RabbitMQ) every event is published to' },
      ),
    ),
  },
  { additionalProperties: false, description: 'where events go besides the API: webhooks and a broker' },
);

/** Where the farm's state lives; without this section, an SQLite file in the data directory. */
export const DatabaseSettings = Type.Object(
  {
    url: Type.Optional(
      Type.String({ pattern: POSTGRES_URL_PATTERN, description: 'postgres://user:password@host:5432/database' }),
    ),
    url_env: Type.Optional(
      Type.String({ pattern: ENV_NAME_PATTERN, description: 'environment variable holding the URL' }),
    ),
  },
  {
    additionalProperties: false,
    description: "where the farm's state lives: PostgreSQL; without it, an SQLite file in the data directory",
  },
);

/** How the dashboard reads logs. */
export const LogsSettings = Type.Object(
  {
    error_patterns: Type.Optional(
      Type.Array(Line({ minLength: 1 }), {
        minItems: 1,
        description:
          'regular expressions (JavaScript, case-sensitive) marking error lines, tried without ANSI escapes; replaces the built-in list',
      }),
    ),
  },
  { additionalProperties: false, description: 'how the dashboard reads logs' },
);

export const FarmConfig = Type.Object(
  {
    repos: Type.Array(RepoConfig, { minItems: 1, description: 'the repositories the farm builds' }),
    builders: Type.Array(BuilderConfig, { description: 'what runs for a push: one job per matching builder' }),
    auth: Type.Optional(AuthConfig),
    server: Type.Optional(ServerSettings),
    branches: Type.Optional(
      Type.Array(BranchPriority, { description: 'priorities by branch; a branch none matches gets priority 4' }),
    ),
    scheduling: Type.Optional(SchedulingSettings),
    events: Type.Optional(EventsSettings),
    database: Type.Optional(DatabaseSettings),
    logs: Type.Optional(LogsSettings),
    signing: Type.Optional(SigningSettings),
  },
  {
    additionalProperties: false,
    description: 'The farm config `switchyard server --config` reads and `switchyard validate` checks (YAML).',
  },
);

export type StepConfig = Type.Static<typeof StepConfig>;
export type BuilderConfig = Type.Static<typeof BuilderConfig>;
export type ArtifactConfig = Type.Static<typeof ArtifactConfig>;
export type FetchConfig = Type.Static<typeof FetchConfig>;
export type RepoConfig = Type.Static<typeof RepoConfig>;
export type TokenConfig = Type.Static<typeof TokenConfig>;
export type AuthConfig = Type.Static<typeof AuthConfig>;
export type FarmConfig = Type.Static<typeof FarmConfig>;
export type BranchPriority = Type.Static<typeof BranchPriority>;
export type EventFilterConfig = Type.Static<typeof EventFilterConfig>;
export type WebhookConfig = Type.Static<typeof WebhookConfig>;
export type EventsSettings = Type.Static<typeof EventsSettings>;
export type DatabaseSettings = Type.Static<typeof DatabaseSettings>;
export type BlobsSettings = Type.Static<typeof BlobsSettings>;
export type LogsSettings = Type.Static<typeof LogsSettings>;
