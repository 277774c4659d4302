import Type from 'typebox';

const Id = Type.Integer({ minimum: 1 });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256, 64 lower-case hex digits' });

/** The implicit steps a worker runs around a builder's own: before them, `fetch:`; after them, `artifacts:`. */
export const FETCH_STEP = 'fetch-artifacts';
export const UPLOAD_STEP = 'upload-artifacts';

/** The header a client sends with an upload to name its digest; with it, the server can dedup before the body. */
export const CONTENT_SHA256_HEADER = 'x-content-sha256';

/** A builder's `artifacts:` entry as the worker receives it. */
export const ArtifactSpec = Type.Object({
  path: Type.String({ description: 'file or glob, relative to the directory the steps run in' }),
  name: Type.Optional(Type.String()),
  optional: Type.Boolean(),
});

/** A builder's `fetch:` entry as the worker receives it. */
export const FetchSpec = Type.Object({
  from: Type.String({ description: 'the builder whose job (of the same push) made the artifact' }),
  artifact: Type.String(),
  to: Type.String({ description: 'directory relative to where the steps run' }),
  unpack: Type.Boolean(),
});

export const Artifact = Type.Object({
  jobId: Id,
  attempt: Type.Integer({ minimum: 1, description: 'the attempt that uploaded it' }),
  name: Type.String(),
  sha256: Sha256Hex,
  size: Type.Integer({ minimum: 0 }),
  contentType: Type.String(),
  createdAt: Time,
  expiresAt: Time,
  url: Type.String({ description: 'where its bytes are, relative to the coordinator: /api/v1/blobs/sha256/<hex>' }),
});

export const UploadArtifactResponse = Type.Object({
  artifact: Artifact,
  deduplicated: Type.Boolean({ description: 'true: the bytes were stored already, so nothing new was written' }),
});

/** One `fetch:` entry of a job, resolved to the artifact of the dependency job it waited for. */
export const JobInput = Type.Object({
  from: Type.String(),
  artifact: Type.String(),
  job: Type.Union([Id, Type.Null()], { description: 'the dependency job of builder `from` this job waited for' }),
  found: Type.Union([Artifact, Type.Null()]),
  problem: Type.Union([Type.String({ description: 'why it was not found' }), Type.Null()]),
});

export const ArtifactStats = Type.Object({
  artifacts: Type.Integer({ minimum: 0, description: 'artifacts not yet expired or collected' }),
  blobs: Type.Integer({ minimum: 0 }),
  logicalBytes: Type.Integer({ minimum: 0, description: 'the sizes of all artifacts added up' }),
  storedBytes: Type.Integer({
    minimum: 0,
    description: 'the bytes on disk, artifacts and tools: each distinct content once',
  }),
  dedupRatio: Type.Number({
    description: "logicalBytes / the distinct contents' bytes that artifacts reference; 1 when nothing is stored",
  }),
});

export const CollectResult = Type.Object({
  expiredArtifacts: Type.Integer({ minimum: 0 }),
  deletedBlobs: Type.Integer({ minimum: 0 }),
  freedBytes: Type.Integer({ minimum: 0 }),
});

/** The path a blob is served at, which caches key on. */
export function blobPath(sha256: string): string {
  return `/api/v1/blobs/sha256/${sha256}`;
}

export type ArtifactSpec = Type.Static<typeof ArtifactSpec>;
export type FetchSpec = Type.Static<typeof FetchSpec>;
export type Artifact = Type.Static<typeof Artifact>;
export type UploadArtifactResponse = Type.Static<typeof UploadArtifactResponse>;
export type JobInput = Type.Static<typeof JobInput>;
export type ArtifactStats = Type.Static<typeof ArtifactStats>;
export type CollectResult = Type.Static<typeof CollectResult>;

export type ArchiveKind = 'tar' | 'tar.gz' | 'tar.xz' | 'tar.bz2' | 'tar.zst' | 'zip';

/** The kinds a builder's `fetch: unpack: true` takes; tool manifests take every ArchiveKind. */
const ARTIFACT_ARCHIVE_KINDS: readonly ArchiveKind[] = ['tar', 'tar.gz', 'zip'];

/** An archive's kind, from its name; null when it is none of them. */
export function archiveKind(name: string): ArchiveKind | null {
  if (/\.(tar\.gz|tgz)$/i.test(name)) return 'tar.gz';
  if (/\.tar\.xz$/i.test(name)) return 'tar.xz';
  if (/\.tar\.bz2$/i.test(name)) return 'tar.bz2';
  if (/\.tar\.zst$/i.test(name)) return 'tar.zst';
  if (/\.tar$/i.test(name)) return 'tar';
  if (/\.zip$/i.test(name)) return 'zip';
  return null;
}

/** Whether a builder's `fetch:` can unpack an artifact of this name. */
export function isUnpackable(name: string): boolean {
  const kind = archiveKind(name);
  return kind !== null && ARTIFACT_ARCHIVE_KINDS.includes(kind);
}
