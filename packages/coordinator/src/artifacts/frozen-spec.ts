import type { ArtifactSpec, BuilderConfig, FetchSpec } from '@switchyard/protocol';

/** A builder's `artifacts:` as the job freezes them: every entry spelled out. */
export function artifactSpecs(builder: BuilderConfig): ArtifactSpec[] {
  return (builder.artifacts ?? []).map((entry) =>
    typeof entry === 'string'
      ? { path: entry, optional: false }
      : { path: entry.path, ...(entry.name !== undefined && { name: entry.name }), optional: entry.optional ?? false },
  );
}

/** A builder's `fetch:` as the job freezes them, with the defaults filled in. */
export function fetchSpecs(builder: BuilderConfig): FetchSpec[] {
  return (builder.fetch ?? []).map((entry) => ({
    from: entry.from,
    artifact: entry.artifact,
    to: entry.to ?? '.',
    unpack: entry.unpack ?? false,
  }));
}
