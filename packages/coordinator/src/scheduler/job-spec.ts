import type { ArtifactSpec, BuilderConfig, FetchSpec, JobSpec, SignSpec } from '@switchyard/protocol';
import type { Builder, Farm } from '../config/farm-config.ts';

/** A job's spec before it has ids: the store adds the push's and the job's. */
export type FrozenJobSpec = Omit<JobSpec, 'id' | 'pushId'>;

/** The revision a job builds; `repoUrl` is the repository's URL when the push arrived. */
export interface PushedRevision {
  repo: string;
  repoUrl: string;
  branch: string;
  revision: string;
}

/**
 * Everything a worker needs to run a builder on a revision, frozen when the job is created, so
 * that a later config reload changes later jobs only.
 */
export function frozenJobSpec(farm: Farm, builder: Builder, push: PushedRevision): FrozenJobSpec {
  return {
    repo: { name: push.repo, url: push.repoUrl, vcs: builder.repo.vcs ?? 'git' },
    branch: push.branch,
    revision: push.revision,
    builder: builder.name,
    checkout: builder.checkout,
    ...(builder.config.sparse && { sparse: builder.config.sparse }),
    ...(builder.config.depth !== undefined && { depth: builder.config.depth }),
    ...(builder.config.tools !== undefined && { tools: builder.config.tools }),
    env: stringifyEnv(builder.config.env),
    steps: builder.config.steps.map((step) => ({
      name: step.name,
      run: step.run,
      env: stringifyEnv(step.env),
      timeoutSeconds: step.timeout ?? farm.settings.stepTimeoutSeconds,
    })),
    artifacts: artifactSpecs(builder.config),
    fetch: fetchSpecs(builder.config),
    ...(builder.config.sign && { sign: signSpecs(builder.config.sign) }),
  };
}

/** A builder's `sign:` as the job freezes it, with the defaults filled in. */
function signSpecs(entries: NonNullable<BuilderConfig['sign']>): SignSpec[] {
  return entries.map((entry) => ({
    files: entry.files,
    format: entry.format,
    key: entry.key,
    ...(entry.to !== undefined && { to: entry.to }),
    optional: entry.optional ?? false,
  }));
}

function stringifyEnv(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([key, value]) => [key, String(value)]));
}

/** A builder's `artifacts:` as the job freezes them: every entry spelled out. */
function artifactSpecs(builder: BuilderConfig): ArtifactSpec[] {
  return (builder.artifacts ?? []).map((entry) =>
    typeof entry === 'string'
      ? { path: entry, optional: false }
      : { path: entry.path, ...(entry.name !== undefined && { name: entry.name }), optional: entry.optional ?? false },
  );
}

/** A builder's `fetch:` as the job freezes them, with the defaults filled in. */
function fetchSpecs(builder: BuilderConfig): FetchSpec[] {
  return (builder.fetch ?? []).map((entry) => ({
    from: entry.from,
    artifact: entry.artifact,
    to: entry.to ?? '.',
    unpack: entry.unpack ?? false,
  }));
}
