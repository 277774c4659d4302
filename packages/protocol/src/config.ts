import Type from 'typebox';
import { SCOPES } from './states.ts';

/** Names used in URLs, routing keys and file names: no spaces, slashes or dots at the start. */
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });

/** A week: longer than any build should run, and within what a timer can count (2^31 ms). */
const MAX_STEP_TIMEOUT_SECONDS = 7 * 24 * 3600;

const EnvValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const Env = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), EnvValue);

export const StepConfig = Type.Object(
  {
    name: Name,
    run: Type.String({ minLength: 1, description: 'command line, run with /bin/sh -c in the job directory' }),
    env: Type.Optional(Env),
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

export const BuilderConfig = Type.Object(
  {
    name: Name,
    repo: Name,
    pool: Name,
    branches: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'globs; omitted = every branch' }),
    ),
    after: Type.Optional(
      Type.Union([Name, Type.Array(Name, { minItems: 1 })], {
        description: 'builders of the same push that must succeed first',
      }),
    ),
    checkout: Type.Optional(Type.Boolean({ description: 'false: steps run in an empty directory' })),
    env: Type.Optional(Env),
    tags: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'worker tags this builder requires' }),
    ),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    steps: Type.Array(StepConfig, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const RepoConfig = Type.Object(
  {
    name: Name,
    url: Type.String({ minLength: 1, description: 'anything `git clone` accepts' }),
  },
  { additionalProperties: false },
);

export const TokenConfig = Type.Object(
  {
    name: Name,
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'hex sha256 of the token' })),
    env: Type.Optional(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the token' }),
    ),
    scopes: Type.Array(Type.Enum<[...typeof SCOPES]>([...SCOPES]), { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const AuthConfig = Type.Object(
  {
    tokens: Type.Array(TokenConfig, { minItems: 1 }),
    public_read: Type.Optional(Type.Boolean({ description: 'default true: reads need no token' })),
  },
  { additionalProperties: false },
);

export const ServerSettings = Type.Object(
  {
    lease_seconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600 })),
    claim_wait_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 120, description: 'the longest a worker claim is held open' }),
    ),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    step_timeout: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_STEP_TIMEOUT_SECONDS,
        description: 'seconds, for steps without a timeout',
      }),
    ),
    max_log_bytes: Type.Optional(Type.Integer({ minimum: 1024, description: 'per step; output past it is dropped' })),
  },
  { additionalProperties: false },
);

export const FarmConfig = Type.Object(
  {
    repos: Type.Array(RepoConfig, { minItems: 1 }),
    builders: Type.Array(BuilderConfig),
    auth: Type.Optional(AuthConfig),
    server: Type.Optional(ServerSettings),
  },
  { additionalProperties: false },
);

export type StepConfig = Type.Static<typeof StepConfig>;
export type BuilderConfig = Type.Static<typeof BuilderConfig>;
export type RepoConfig = Type.Static<typeof RepoConfig>;
export type TokenConfig = Type.Static<typeof TokenConfig>;
export type AuthConfig = Type.Static<typeof AuthConfig>;
export type FarmConfig = Type.Static<typeof FarmConfig>;
