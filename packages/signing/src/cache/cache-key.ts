import { createHash } from 'node:crypto';

/**
 * A cache key: the sha256 of everything that decides the output. Callers pass the input's
 * digest, the format, the key and its fingerprint, and the engines with their versions and
 * options (liblzma's version and the xz filters, osslsigncode's version, the MAR algorithm…):
 * change any of them and the old entry simply stops matching.
 */
export function cacheKey(parts: Record<string, string | number>): string {
  const canonical = JSON.stringify(Object.entries(parts).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(canonical).digest('hex');
}
