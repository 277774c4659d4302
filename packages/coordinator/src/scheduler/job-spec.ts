import type { JobSpec } from '@switchyard/protocol';
import { artifactSpecs, fetchSpecs } from '../artifacts/frozen-spec.ts';
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
  };
}

function stringifyEnv(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([key, value]) => [key, String(value)]));
}
