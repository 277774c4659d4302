/** Where blobs live in S3: a bucket, and a key prefix ('' or ending in '/'). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

// S3's rules for new buckets: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads `s3://bucket` or `s3://bucket/some/prefix`. Returns the problem as a sentence when the
 * URL is not one, for the config loader and the command line to report.
 */
export function parseS3Url(url: string): S3Location | { problem: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!match) return { problem: `expected s3://bucket or s3://bucket/prefix, got "${url}"` };
  const [, bucket = '', path = ''] = match;
  if (!BUCKET.test(bucket)) {
    return { problem: `"${bucket}" is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)` };
  }
  const segments = path.split('/').filter((segment, i, all) => !(segment === '' && i === all.length - 1));
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return { problem: `the prefix "${path}" has an empty, "." or ".." segment` };
  }
  return { bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

/**
 * The keys of the store: `<prefix>sha256/<hex>` holds the bytes whose sha256 is `<hex>`; uploads
 * in progress are under `<prefix>tmp/`, so a lifecycle rule on that prefix can clear what a
 * crashed replica left behind.
 */
export class S3KeyLayout {
  constructor(readonly prefix: string) {}

  blobKey(sha256: string): string {
    return `${this.prefix}sha256/${sha256}`;
  }

  get blobPrefix(): string {
    return `${this.prefix}sha256/`;
  }

  /**
   * A temporary key, named by when it was started: the time a crash's leftovers are judged by
   * at start, as some S3 implementations report no real initiation time for multipart uploads.
   */
  tempKey(startedAt: number, id: string): string {
    return `${this.prefix}tmp/${startedAt}-${id}`;
  }

  /** When the upload to a temporary key started, or null for a key not named by `tempKey`. */
  tempKeyStartedAt(key: string): number | null {
    if (!key.startsWith(this.tempPrefix)) return null;
    const match = /^(\d{1,15})-/.exec(key.slice(this.tempPrefix.length));
    return match ? Number(match[1]) : null;
  }

  get tempPrefix(): string {
    return `${this.prefix}tmp/`;
  }

  /** The digest a listed key holds, or null for a key that is not a blob's. */
  digestOf(key: string): string | null {
    if (!key.startsWith(this.blobPrefix)) return null;
    const rest = key.slice(this.blobPrefix.length);
    return /^[0-9a-f]{64}$/.test(rest) ? rest : null;
  }
}

/**
 * How a committed upload is copied to its digest's key: one CopyObject up to S3's 5 GiB limit
 * for it, else a multipart copy in spans of `partBytes` (inclusive offsets for CopySourceRange).
 */
export function copyPlan(
  size: number,
  maxSingleCopyBytes: number,
  partBytes: number,
): 'single' | Array<[number, number]> {
  if (size <= maxSingleCopyBytes) return 'single';
  const spans: Array<[number, number]> = [];
  for (let start = 0; start < size; start += partBytes) spans.push([start, Math.min(size, start + partBytes) - 1]);
  return spans;
}
