import type { Upstream } from './upstreams.ts';

/** Where a proxy request goes: `/<upstream>/<path>` → `<upstream base>/<path>`. */
export interface Route {
  upstream: Upstream;
  /** The path and query below the upstream, starting with `/`. */
  path: string;
  target: URL;
}

/**
 * Maps a request target to its upstream, or to the name that matched none. The path is passed on as
 * sent (no normalisation), so the cache key and the origin see the same bytes.
 */
export function resolveRoute(
  requestTarget: string,
  upstreams: ReadonlyMap<string, Upstream>,
): Route | { unknown: string } {
  const match = /^\/([^/?#]+)(\/[^#]*|\?[^#]*)?$/.exec(requestTarget);
  const name = match?.[1] ?? '';
  const upstream = upstreams.get(name);
  if (!upstream) return { unknown: name };
  const rest = match?.[2] ?? '/';
  const path = rest.startsWith('?') ? `/${rest}` : rest;
  return { upstream, path, target: new URL(`${upstream.base}${path}`) };
}
