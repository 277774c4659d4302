import Type from 'typebox';

const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
const Ms = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'milliseconds; null without data' });
const Count = Type.Integer({ minimum: 0 });
const Ratio = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);

export const StatsQuery = Type.Object({
  days: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, maximum: 365, default: 7, description: 'the window: the last N days' }),
  ),
  repo: Type.Optional(Type.String()),
  branch: Type.Optional(Type.String()),
  pool: Type.Optional(Type.String()),
  builder: Type.Optional(Type.String()),
});

export const Distribution = Type.Object({
  count: Count,
  medianMs: Ms,
  p90Ms: Ms,
  meanMs: Ms,
  maxMs: Ms,
});

export const Trend = Type.Object({
  changePercent: Type.Union([Type.Number(), Type.Null()], {
    description: 'median of the window’s second half against its first half; positive = slower',
  }),
  buckets: Type.Array(Type.Object({ start: Time, count: Count, medianMs: Ms, p90Ms: Ms })),
});

export const StatsWindow = Type.Object({ from: Time, to: Time });

export const PushTimes = Type.Object({
  window: StatsWindow,
  groups: Type.Array(Type.Object({ repo: Type.String(), branch: Type.String(), endToEnd: Distribution, trend: Trend })),
  recent: Type.Array(
    Type.Object({
      push: Type.Integer({ minimum: 1 }),
      repo: Type.String(),
      branch: Type.String(),
      revision: Type.String(),
      createdAt: Time,
      endToEndMs: Count,
    }),
    { description: 'the newest completed pushes, newest first' },
  ),
});

export const WaitTimes = Type.Object({
  window: StatsWindow,
  pools: Type.Array(Type.Object({ pool: Type.String(), wait: Distribution, trend: Trend })),
});

export const BuilderStats = Type.Object({
  window: StatsWindow,
  builders: Type.Array(
    Type.Object({
      builder: Type.String(),
      runs: Count,
      duration: Distribution,
      trend: Trend,
      counts: Type.Object({ success: Count, failure: Count, exception: Count }),
      failureRate: Ratio,
      exceptionRate: Ratio,
    }),
    { description: 'slowest (highest median) first' },
  ),
});

export const WorkerUtilisation = Type.Object({
  window: StatsWindow,
  workers: Type.Array(
    Type.Object({
      name: Type.String(),
      pool: Type.String(),
      attempts: Count,
      busyMs: Count,
      availableMs: Count,
      utilisation: Ratio,
    }),
  ),
  pools: Type.Array(Type.Object({ pool: Type.String(), workers: Count, utilisation: Ratio })),
});

export const LastGreen = Type.Object({
  repo: Type.String(),
  branch: Type.String(),
  revision: Type.String(),
  push: Type.Integer({ minimum: 1 }),
  author: Type.String(),
  pushedAt: Time,
  completedAt: Time,
  jobs: Count,
});

export type StatsQuery = Type.Static<typeof StatsQuery>;
export type Distribution = Type.Static<typeof Distribution>;
export type Trend = Type.Static<typeof Trend>;
export type StatsWindow = Type.Static<typeof StatsWindow>;
export type PushTimes = Type.Static<typeof PushTimes>;
export type WaitTimes = Type.Static<typeof WaitTimes>;
export type BuilderStats = Type.Static<typeof BuilderStats>;
export type WorkerUtilisation = Type.Static<typeof WorkerUtilisation>;
export type LastGreen = Type.Static<typeof LastGreen>;
