import { LRUCache } from 'lru-cache';

/**
 * Cache-Control directives (RFC 9111 §5.2), by lower-case name, with their argument unquoted (''
 * when there is none). Names are compared case-insensitively and a quoted argument may hold commas,
 * which http-cache-semantics gets wrong (it keys directives by their name as sent and splits on
 * every comma). When a directive appears twice, the first occurrence is kept, one of the two
 * readings RFC 9111 §4.2.1 allows.
 */
export type Directives = ReadonlyMap<string, string>;

/** One list member: a token name, then optionally `=` and a quoted-string or a token; anything else up to the next comma is ignored. */
const DIRECTIVE = /(?:^|,)[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^,]*)))?[^,]*/g;

const NO_DIRECTIVES: Directives = new Map();

/**
 * Field values parsed already. A cache parses the same few values (its stored responses') on every
 * hit, and parsing them made about 8 % of the garbage of a 1 MiB hit; values longer
 * than any real one are parsed each time rather than kept.
 */
const parsed = new LRUCache<string, Directives>({ max: 1024 });
const LONGEST_KEPT = 256;

/** Parses one or more Cache-Control field lines (several lines make one list, RFC 9110 §5.3). */
export function parseDirectives(field: string | readonly string[] | undefined): Directives {
  const text = typeof field === 'string' ? field : field === undefined ? '' : field.join(',');
  if (text === '') return NO_DIRECTIVES;
  const known = parsed.get(text);
  if (known) return known;
  const directives = parse(text);
  if (text.length <= LONGEST_KEPT) parsed.set(text, directives);
  return directives;
}

function parse(text: string): Directives {
  const directives = new Map<string, string>();
  for (const match of text.matchAll(DIRECTIVE)) {
    const name = (match[1] as string).toLowerCase();
    if (directives.has(name)) continue;
    const quoted = match[2];
    directives.set(name, quoted === undefined ? (match[3] ?? '').trim() : quoted.replace(/\\(.)/g, '$1'));
  }
  return directives;
}

/**
 * RFC 9111 §1.2.2: "If a cache receives a delta-seconds value greater than the greatest integer it
 * can represent, or if any of its subsequent calculations overflows, the cache MUST consider the
 * value to be 2147483648 (2^31) or the greatest positive integer it can conveniently represent."
 */
const DELTA_SECONDS_CAP = 2 ** 31;

/** A delta-seconds argument (`1*DIGIT`); undefined when absent or anything else (`-1`, `1.5`, `60s`). */
export function deltaSeconds(argument: string | undefined): number | undefined {
  if (argument === undefined || !/^\d+$/.test(argument)) return undefined;
  return Math.min(Number(argument), DELTA_SECONDS_CAP);
}
