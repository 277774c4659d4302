import { SPEED_PREFERENCES } from '@switchyard/coordinator/scheduler';
import Type from 'typebox';

/**
 * A simulated farm and its workload, as written in a scenario file (YAML). Every setting is
 * documented in docs/guide/scheduling.md ("To simulate the scheduler").
 */
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Hour = Type.Number({ minimum: 0, maximum: 24 });

export const BusyHours = Type.Object(
  {
    from: Hour,
    to: Hour,
    factor: Type.Number({ minimum: 0, maximum: 100, description: 'multiplies every branch’s pushes_per_hour' }),
  },
  { additionalProperties: false },
);

export const ScenarioBranch = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    priority: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: 'lower is more important; default 4' }),
    ),
    pushes_per_hour: Type.Number({ minimum: 0, maximum: 10_000, description: 'outside busy hours' }),
    exact: Type.Optional(
      Type.Boolean({ description: 'every push asks for its exact revision, so its jobs are never coalesced' }),
    ),
  },
  { additionalProperties: false },
);

export const ScenarioWorkers = Type.Object(
  {
    pool: Name,
    count: Type.Integer({ minimum: 1, maximum: 10_000 }),
    speed: Type.Optional(
      Type.Number({ minimum: 0.01, maximum: 100, description: '1.0 = nominal; 2.0 halves durations' }),
    ),
    exception_rate: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'share of attempts that end in exception on these workers' }),
    ),
    name: Type.Optional(Name),
  },
  { additionalProperties: false },
);

export const ScenarioBuilder = Type.Object(
  {
    name: Name,
    pool: Name,
    minutes: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'cold, on a nominal worker' }),
    warm_minutes: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 100_000,
        description: 'when the worker’s last run of this builder was on the same branch',
      }),
    ),
    after: Type.Optional(Type.Union([Name, Type.Array(Name, { minItems: 1 })])),
    branches: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    priority: Type.Optional(Type.Integer({ minimum: -100, maximum: 100 })),
    prefer: Type.Optional(Type.Enum([...SPEED_PREFERENCES])),
    coalesce: Type.Optional(Type.Enum(['latest', 'never'])),
    coalesce_limit: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
    failure_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  },
  { additionalProperties: false },
);

export const ScenarioScheduling = Type.Object(
  {
    aging_minutes: Type.Optional(Type.Number({ minimum: 0, maximum: 10_080 })),
    fit_band: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
  },
  { additionalProperties: false },
);

export const ScenarioFile = Type.Object(
  {
    seed: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }),
    duration_hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 366 }),
    jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5, description: 'durations vary by ± this share' })),
    busy_hours: Type.Optional(Type.Union([BusyHours, Type.Array(BusyHours)])),
    scheduling: Type.Optional(ScenarioScheduling),
    branches: Type.Array(ScenarioBranch, { minItems: 1 }),
    workers: Type.Array(ScenarioWorkers, { minItems: 1 }),
    builders: Type.Array(ScenarioBuilder, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type ScenarioFile = Type.Static<typeof ScenarioFile>;
export type BusyHours = Type.Static<typeof BusyHours>;

export interface Branch {
  name: string;
  priority: number;
  pushesPerHour: number;
  exact: boolean;
}

export interface WorkerGroup {
  pool: string;
  count: number;
  speed: number;
  exceptionRate: number;
  /** Prefix of its workers' names. */
  name: string;
}

export interface Builder {
  name: string;
  pool: string;
  coldMinutes: number;
  warmMinutes: number;
  after: string[];
  /** Branches whose pushes run it; null: every branch. */
  branches: ReadonlySet<string> | null;
  /** Added to the branch's priority. */
  priorityOffset: number;
  prefer: 'fast' | 'slow' | 'any';
  /** Most jobs one run stands for; null: never coalesced. */
  coalesceLimit: number | null;
  failureRate: number;
  maxAttempts: number;
}

/** A scenario with every default filled in, ready to simulate. */
export interface Scenario {
  seed: number;
  durationHours: number;
  jitter: number;
  busyHours: BusyHours[];
  agingMinutes: number;
  fitBand: number;
  branches: Branch[];
  workers: WorkerGroup[];
  /** In dependency order: every builder comes after the builders it runs after. */
  builders: Builder[];
}
