/** Lines `from` to `to` of a log, 1-based and inclusive. */
export interface LineRange {
  from: number;
  to: number;
}

/** `#L120` or `#L120-L140` (GitHub's and Taskcluster's form; `#L140-L120` is read the right way round). */
export function parseLineHash(hash: string): LineRange | null {
  const match = /^#?L(\d+)(?:-L?(\d+))?$/.exec(hash.trim());
  if (!match) return null;
  const a = Number(match[1]);
  const b = match[2] === undefined ? a : Number(match[2]);
  if (a < 1 || b < 1) return null;
  return { from: Math.min(a, b), to: Math.max(a, b) };
}

export function formatLineHash(range: LineRange): string {
  return range.from === range.to ? `#L${range.from}` : `#L${range.from}-L${range.to}`;
}

/** A click with shift held extends the selection from its anchor; a plain click starts a new one. */
export function extendRange(current: LineRange | null, line: number, extend: boolean): LineRange {
  if (!extend || current === null) return { from: line, to: line };
  return { from: Math.min(current.from, line), to: Math.max(current.from, line) };
}
