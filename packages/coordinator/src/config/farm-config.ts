import { createHash } from 'node:crypto';
import type { BuilderConfig, FarmConfig, RepoConfig, Scope } from '@switchyard/protocol';
import picomatch from 'picomatch';
import type { SpeedPreference } from '../scheduler/model.ts';
import { afterNames } from './builder-dependencies.ts';
import { compileDatabase } from './database-config.ts';
import { compileEvents, type EventsConfig } from './events-config.ts';
import { compileLogErrors } from './log-error-config.ts';
import { compileSigning, type SigningConfig } from './signing-config.ts';

export const DEFAULT_SETTINGS = {
  leaseSeconds: 30,
  claimWaitSeconds: 25,
  maxAttempts: 3,
  stepTimeoutSeconds: 3600,
  maxLogBytes: 256 * 1024 * 1024,
  artifactExpiryDays: 30,
  maxArtifactBytes: 8 * 1024 ** 3,
  bodyTimeoutSeconds: 30,
  minBodyBytesPerSecond: 1024,
  maxConnectionsPerClient: 256,
};

export type Settings = typeof DEFAULT_SETTINGS;

/** A branch no `branches:` entry matches gets this priority (Mozilla's default, between trunk and try). */
export const DEFAULT_BRANCH_PRIORITY = 4;
export const DEFAULT_COALESCE_LIMIT = 8;

export interface SchedulingSettings {
  /** Waiting this long improves a job by one priority level; 0: no aging. */
  agingMs: number;
  fitBand: number;
}

/**
 * A half-level band: wide enough that warm caches and speed decide among jobs of one priority
 * queued around the same time, narrow enough that the wait tail stays no worse than FIFO's
 * (measured with the simulator across seeds; see docs/BENCHMARKS.md).
 */
export const DEFAULT_SCHEDULING: SchedulingSettings = { agingMs: 10 * 60_000, fitBand: 0.5 };

export interface Builder {
  config: BuilderConfig;
  name: string;
  repo: RepoConfig;
  pool: string;
  after: string[];
  checkout: boolean;
  maxAttempts: number;
  /** Added to the branch's priority. */
  priorityOffset: number;
  /** null: `coalesce: never`. */
  coalesceLimit: number | null;
  prefer: SpeedPreference;
  matchesBranch(branch: string): boolean;
}

export interface TokenGrant {
  name: string;
  scopes: Set<Scope>;
}

/** A validated config, compiled once into the lookups the coordinator uses. */
export interface Farm {
  file: string;
  raw: FarmConfig;
  settings: Settings;
  repos: Map<string, RepoConfig>;
  /** In file order, which is also dependency order for builders of one push. */
  builders: Builder[];
  buildersByName: Map<string, Builder>;
  /** null: no `auth:` section, so no tokens are checked and the server stays on loopback. */
  tokens: Map<string, TokenGrant> | null;
  publicRead: boolean;
  /** Webhooks and the broker exchange. */
  events: EventsConfig;
  scheduling: SchedulingSettings;
  /** Marks the error lines of a log (`logs: error_patterns`, else the built-in list). */
  logErrors: RegExp;
  /** The signing service running attempts may use, and the secret their signing tokens are signed with; null: none. */
  signing: SigningConfig | null;
  /** The PostgreSQL URL of `database:`; null: the SQLite file in the data directory. Read once, at start. */
  database: string | null;
  /** The `branches:` priority of a branch: the first matching entry's, else the default. */
  branchPriority(branch: string): number;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function compileFarm(file: string, raw: FarmConfig, env: NodeJS.ProcessEnv): Farm {
  const server = raw.server ?? {};
  const settings: Settings = {
    leaseSeconds: server.lease_seconds ?? DEFAULT_SETTINGS.leaseSeconds,
    claimWaitSeconds: server.claim_wait_seconds ?? DEFAULT_SETTINGS.claimWaitSeconds,
    maxAttempts: server.max_attempts ?? DEFAULT_SETTINGS.maxAttempts,
    stepTimeoutSeconds: server.step_timeout ?? DEFAULT_SETTINGS.stepTimeoutSeconds,
    maxLogBytes: server.max_log_bytes ?? DEFAULT_SETTINGS.maxLogBytes,
    artifactExpiryDays: server.artifact_expiry_days ?? DEFAULT_SETTINGS.artifactExpiryDays,
    maxArtifactBytes: server.max_artifact_bytes ?? DEFAULT_SETTINGS.maxArtifactBytes,
    bodyTimeoutSeconds: server.body_timeout_seconds ?? DEFAULT_SETTINGS.bodyTimeoutSeconds,
    minBodyBytesPerSecond: server.min_body_bytes_per_second ?? DEFAULT_SETTINGS.minBodyBytesPerSecond,
    maxConnectionsPerClient: server.max_connections_per_client ?? DEFAULT_SETTINGS.maxConnectionsPerClient,
  };
  const repos = new Map(raw.repos.map((r) => [r.name, r]));
  const builders = raw.builders.map((config): Builder => {
    const matchers = (config.branches ?? []).map((glob) => picomatch(glob, { dot: true }));
    return {
      config,
      name: config.name,
      repo: repos.get(config.repo) as RepoConfig,
      pool: config.pool,
      after: afterNames(config),
      checkout: config.checkout ?? true,
      maxAttempts: config.max_attempts ?? settings.maxAttempts,
      priorityOffset: config.priority ?? 0,
      coalesceLimit: config.coalesce === 'latest' ? (config.coalesce_limit ?? DEFAULT_COALESCE_LIMIT) : null,
      // Builds want the fast machines; what runs after them leaves those free.
      prefer: config.prefer ?? (afterNames(config).length === 0 ? 'fast' : 'slow'),
      matchesBranch: (branch) => matchers.length === 0 || matchers.some((m) => m(branch)),
    };
  });
  let tokens: Map<string, TokenGrant> | null = null;
  if (raw.auth) {
    tokens = new Map();
    for (const token of raw.auth.tokens) {
      const hash = token.sha256 ?? sha256Hex(env[token.env as string] as string);
      tokens.set(hash, { name: token.name, scopes: new Set(token.scopes) });
    }
  }
  const branchRules = (raw.branches ?? []).map((rule) => ({
    matches: picomatch(rule.match, { dot: true }),
    priority: rule.priority,
  }));
  return {
    file,
    raw,
    settings,
    repos,
    builders,
    buildersByName: new Map(builders.map((b) => [b.name, b])),
    tokens,
    publicRead: raw.auth?.public_read ?? true,
    events: compileEvents(raw.events, env),
    database: compileDatabase(raw.database, env),
    signing: compileSigning(raw.signing, file, env),
    logErrors: compileLogErrors(raw.logs),
    scheduling: {
      agingMs:
        raw.scheduling?.aging_minutes !== undefined
          ? // Whole milliseconds: queue ranks are computed in SQL, where PostgreSQL takes the factor as a bigint.
            Math.round(raw.scheduling.aging_minutes * 60_000)
          : DEFAULT_SCHEDULING.agingMs,
      fitBand: raw.scheduling?.fit_band ?? DEFAULT_SCHEDULING.fitBand,
    },
    branchPriority: (branch) => branchRules.find((rule) => rule.matches(branch))?.priority ?? DEFAULT_BRANCH_PRIORITY,
  };
}
