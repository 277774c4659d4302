const BY_EXTENSION: [RegExp, string][] = [
  [/\.(tar\.gz|tgz)$/i, 'application/gzip'],
  [/\.gz$/i, 'application/gzip'],
  [/\.tar$/i, 'application/x-tar'],
  [/\.(tar\.xz|txz|xz)$/i, 'application/x-xz'],
  [/\.(tar\.bz2|tbz2|bz2)$/i, 'application/x-bzip2'],
  [/\.(tar\.zst|zst)$/i, 'application/zstd'],
  [/\.zip$/i, 'application/zip'],
  [/\.json$/i, 'application/json'],
  [/\.(txt|log)$/i, 'text/plain; charset=utf-8'],
  [/\.html?$/i, 'text/html; charset=utf-8'],
  [/\.xml$/i, 'application/xml'],
  [/\.dmg$/i, 'application/x-apple-diskimage'],
  [/\.(exe|msi|dll)$/i, 'application/vnd.microsoft.portable-executable'],
];

const GENERIC = 'application/octet-stream';

/**
 * The content type stored for an upload: the client's, when it said something more precise
 * than "bytes"; otherwise a guess from the artifact's name (`curl -T` sends none).
 */
export function artifactContentType(name: string, declared: string | undefined): string {
  const given = declared?.trim();
  if (given && given.toLowerCase() !== GENERIC && /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(given)) return given;
  return BY_EXTENSION.find(([pattern]) => pattern.test(name))?.[1] ?? GENERIC;
}
