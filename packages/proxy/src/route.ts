import type { Upstream } from './upstreams.ts';

/** Where a proxy request goes: `/<upstream>/<path>` → `<upstream base>/<path>`. */
export interface Route {
  upstream: Upstream;
  /** The path and query below the upstream, starting with `/`. */
  path: string;
  target: URL;
}

/**
 * Maps a request target to its upstream, or says why it can't: no upstream of that name, or a path
 * whose dot segments climb out of the upstream's base path. The path is otherwise passed on as sent,
 * so the cache key and the origin see the same bytes.
 */
export function resolveRoute(
  requestTarget: string,
  upstreams: ReadonlyMap<string, Upstream>,
): Route | { unknown: string } | { escapes: string } {
  const match = /^\/([^/?#]+)(\/[^#]*|\?[^#]*)?$/.exec(requestTarget);
  const name = match?.[1] ?? '';
  const upstream = upstreams.get(name);
  if (!upstream) return { unknown: name };
  const rest = match?.[2] ?? '/';
  const path = rest.startsWith('?') ? `/${rest}` : rest;
  const target = new URL(`${upstream.base}${path}`);
  const basePath = new URL(upstream.base).pathname.replace(/\/$/, '');
  if (!`${target.pathname}`.startsWith(`${basePath}/`)) return { escapes: path };
  return { upstream, path, target };
}
