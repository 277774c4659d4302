/**
 * The MAR entries `mar-contents` signs: Windows executables and libraries. Everything else
 * (resources, scripts, the update manifest) is copied as it is, compressed bytes untouched.
 */
export function isSignableEntry(name: string): boolean {
  return /\.(exe|dll)$/i.test(name);
}
