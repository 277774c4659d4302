/**
 * Vary (RFC 9111 §4.1): which request header fields select a stored response, and when two requests
 * present the same ones. Requests are read field line by field line (`headersDistinct`): node's
 * `headers` keeps only the first line of some fields (User-Agent, Authorization, …), which would
 * make two different requests look alike.
 */

/** A message's header field lines by lower-case name, as node's `headersDistinct` gives them. */
export type FieldLines = NodeJS.Dict<string[]>;

/** The lower-case field names a `Vary` value lists (`*` included, as such). */
export function varyNames(vary: string | readonly string[] | undefined): string[] {
  const text = typeof vary === 'string' ? vary : (vary ?? []).join(',');
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  return [...new Set(names)];
}

/**
 * One selecting field's value, normalised so that requests the RFC calls matching compare equal:
 * "The header fields from two requests are defined to match if and only if those in the first
 * request can be transformed to those in the second request by applying any of the following:
 * adding or removing whitespace, where allowed in the header field's syntax; combining multiple
 * header field lines with the same field name ...". Lines are combined with a comma (RFC 9110 §5.3),
 * and whitespace goes where list and parameter syntax allow it (OWS around `,` and `;`, and at
 * either end); inside a quoted string it stays. Undefined for an absent field: "If (after any
 * normalization that might take place) a header field is absent from a request, it can only match
 * another request if it is also absent there."
 */
export function selectingValue(lines: readonly string[] | undefined): string | undefined {
  if (lines === undefined) return undefined;
  return lines
    .join(',')
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/[ \t]*([,;])[ \t]*/g, '$1')))
    .join('')
    .trim();
}

/** Whether two requests present the same values for every field a response varies on. */
export function sameSelection(names: readonly string[], first: FieldLines, second: FieldLines): boolean {
  return names.every((name) => selectingValue(first[name]) === selectingValue(second[name]));
}
