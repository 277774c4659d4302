import type { Upstream } from './upstreams.ts';

/** Where a proxy request goes: `/<upstream>/<path>` → `<upstream base>/<path>`. */
export interface Route {
  upstream: Upstream;
  /** The path and query below the upstream, starting with `/`. */
  path: string;
  target: URL;
}

/** Each upstream's base path without its last slash, parsed once rather than on every request. */
const basePaths = new WeakMap<Upstream, string>();

function basePathOf(upstream: Upstream): string {
  let basePath = basePaths.get(upstream);
  if (basePath === undefined) {
    basePath = new URL(upstream.base).pathname.replace(/\/$/, '');
    basePaths.set(upstream, basePath);
  }
  return basePath;
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
  if (!target.pathname.startsWith(`${basePathOf(upstream)}/`)) return { escapes: path };
  return { upstream, path, target };
}
