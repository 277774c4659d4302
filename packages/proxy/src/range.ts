import type { IncomingHttpHeaders } from 'node:http';
import parseRange from 'range-parser';

export type RangeChoice =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

export interface Validators {
  etag?: string;
  lastModified?: string;
}

/**
 * What part of an object of `size` bytes a request gets. One byte range is served as asked; several
 * ranges, a malformed header or an `If-Range` naming another version get the whole object, which
 * RFC 9110 §14.2 allows.
 */
export function chooseRange(size: number, headers: IncomingHttpHeaders, validators: Validators): RangeChoice {
  const header = headers.range;
  if (!header) return { kind: 'full' };
  const ifRange = headers['if-range'];
  if (ifRange !== undefined && !ifRangeMatches(String(ifRange), validators)) return { kind: 'full' };
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return { kind: 'full' };
  const [range] = ranges as parseRange.Ranges & [parseRange.Range];
  return { kind: 'partial', start: range.start, end: range.end };
}

/** If-Range compares strongly: a weak entity tag never matches. */
function ifRangeMatches(ifRange: string, validators: Validators): boolean {
  if (ifRange.startsWith('"')) return validators.etag === ifRange;
  return validators.lastModified !== undefined && validators.lastModified === ifRange;
}
