/** One origin the proxy caches, reached as `/<name>/<path>`. */
export interface Upstream {
  name: string;
  /** The origin's base URL, without a trailing slash: `<base><path>` is what gets fetched. */
  base: string;
}

/** Paths the proxy answers itself, so no upstream may take these names. */
export const RESERVED_NAMES = new Set(['metrics', '_stats']);

export class InvalidUpstreamError extends Error {
  override readonly name = 'InvalidUpstreamError';
}

/** Reads `name=url`, e.g. `artifacts=http://coordinator:7420`, as given to `--upstream`. */
export function parseUpstream(text: string): Upstream {
  const separator = text.indexOf('=');
  const name = text.slice(0, separator);
  const url = text.slice(separator + 1);
  if (separator < 1) {
    throw new InvalidUpstreamError(
      `"${text}" is not an upstream: expected name=url, e.g. artifacts=http://coordinator:7420.`,
    );
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name) || RESERVED_NAMES.has(name)) {
    throw new InvalidUpstreamError(
      `"${name}" cannot name an upstream: use letters, digits, ".", "_" or "-" (not ${[...RESERVED_NAMES].join(' or ')}).`,
    );
  }
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if ((parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') || parsed.search || parsed.hash) {
    throw new InvalidUpstreamError(
      `the upstream ${name} needs an http:// or https:// URL without query or fragment, e.g. ${name}=http://coordinator:7420 (got "${url}").`,
    );
  }
  return { name, base: `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}` };
}

/** Checks that no name is given twice; returns the upstreams by name. */
export function upstreamsByName(upstreams: readonly Upstream[]): Map<string, Upstream> {
  const byName = new Map<string, Upstream>();
  for (const upstream of upstreams) {
    if (byName.has(upstream.name)) throw new InvalidUpstreamError(`the upstream ${upstream.name} is given twice.`);
    byName.set(upstream.name, upstream);
  }
  return byName;
}
