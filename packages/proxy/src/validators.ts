import type { IncomingHttpHeaders } from 'node:http';
import { parseHttpDate } from './http-date.ts';
import type { StoredResponse } from './stored-response.ts';

/**
 * Validators (RFC 9110 §8.8) on both sides of the cache: the conditions it sends to revalidate a
 * stored response, which stored response a 304 freshens, and the conditions of clients it answers
 * itself from a stored response.
 */

/** The entity tags of an `If-None-Match` list (a tag may hold a comma, so the list is not split on them), or `*`. */
function entityTags(list: string): string[] {
  return list.match(/\*|(?:W\/)?"[^"]*"/g) ?? [];
}

const opaque = (tag: string) => tag.replace(/^W\//, '');
const isWeak = (tag: string) => tag.startsWith('W/');

/**
 * The conditions of a revalidation (RFC 9111 §4.3.1): the cache "MUST send the relevant entity tags
 * (using If-Match, If-None-Match, or If-Range) if the entity tags were provided in the stored
 * response(s) being validated" and "SHOULD send the Last-Modified value (using If-Modified-Since) if
 * the request is not for a subrange, a single stored response is being validated, and that response
 * contains a Last-Modified value."
 */
export function conditionalHeaders(stored: StoredResponse): IncomingHttpHeaders {
  const conditions: IncomingHttpHeaders = {};
  const { etag, 'last-modified': lastModified } = stored.headers;
  if (etag !== undefined) conditions['if-none-match'] = etag;
  if (lastModified !== undefined) conditions['if-modified-since'] = lastModified;
  return conditions;
}

/**
 * Whether a 304 answering a revalidation selects the stored response for freshening, by RFC 9111
 * §4.3.4's rules:
 * - "If the new response contains one or more strong validators ..., then each of those strong
 *   validators identifies a selected representation for update." A strong ETag selects a stored
 *   response with that same strong ETag, and nothing else.
 * - "If the new response contains no strong validators but does contain one or more weak
 *   validators, and those validators correspond to one of the initial set's stored responses, then
 *   the most recent of those matching stored responses is identified for update."
 * - "If the new response does not include any form of validator (such as where a client generates
 *   an If-Modified-Since request from a source other than the Last-Modified response header field),
 *   and there is only one stored response in the initial set, and that stored response also lacks a
 *   validator, then that stored response is identified for update."
 *
 * The last rule, read alone, would refuse a 304 without validators for a stored response that has
 * some. It is written for a cache that cannot tell which response the condition named. This one
 * can: its revalidation named only this stored response's validators (`conditionalHeaders`), and a
 * 304 means the condition was false (RFC 9110 §13.1.2: "If the field value is a list of entity
 * tags, the condition is false if one of the listed tags matches the entity tag of the selected
 * representation."), so the stored response is the current one. Origins that leave ETag out of a 304 are common, though
 * RFC 9110 §15.4.5 says they "MUST generate" it.
 */
export function notModifiedSelects(
  stored: StoredResponse,
  notModified: IncomingHttpHeaders,
  sentConditions: IncomingHttpHeaders,
): boolean {
  const storedTag = stored.headers.etag;
  const newTag = notModified.etag;
  if (newTag !== undefined && !isWeak(newTag)) {
    return storedTag !== undefined && !isWeak(storedTag) && storedTag === newTag;
  }
  const newModified = notModified['last-modified'];
  if (newTag !== undefined || newModified !== undefined) {
    const tagsCorrespond = newTag !== undefined && storedTag !== undefined && opaque(storedTag) === opaque(newTag);
    return tagsCorrespond || (newModified !== undefined && newModified === stored.headers['last-modified']);
  }
  const storedHasValidator = storedTag !== undefined || stored.headers['last-modified'] !== undefined;
  const askedAboutThisResponse =
    (storedTag !== undefined && sentConditions['if-none-match'] === storedTag) ||
    (stored.headers['last-modified'] !== undefined &&
      sentConditions['if-modified-since'] === stored.headers['last-modified']);
  return !storedHasValidator || askedAboutThisResponse;
}

/**
 * Whether a client's conditional GET or HEAD is answered 304 from a stored response the cache may
 * use (RFC 9111 §4.3.2): the cache "SHOULD evaluate any applicable conditional header field
 * preconditions received in that request with respect to the corresponding validators contained
 * within the stored response", for a stored 200, and "If-None-Match takes precedence over
 * If-Modified-Since".
 */
export function clientConditionHolds(requestHeaders: IncomingHttpHeaders, stored: StoredResponse): boolean {
  if (stored.status !== 200) return false;
  const ifNoneMatch = requestHeaders['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // RFC 9110 §13.1.2: "A recipient MUST use the weak comparison function when comparing entity tags for If-None-Match".
    const etag = stored.headers.etag;
    return entityTags(ifNoneMatch).some((tag) => tag === '*' || (etag !== undefined && opaque(tag) === opaque(etag)));
  }
  const ifModifiedSince = requestHeaders['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  // RFC 9110 §13.1.3: "A recipient MUST ignore the If-Modified-Since header field if the received
  // field value is not a valid HTTP-date, the field value has more than one member, or if the
  // request method is neither GET nor HEAD." (One member: a list is no HTTP-date either.)
  const since = parseHttpDate(ifModifiedSince);
  if (since === undefined) return false;
  // RFC 9111 §4.3.2: "If a request contains an If-Modified-Since header field and the Last-Modified
  // header field is not present in a stored response, a cache SHOULD use the stored response's Date
  // field value (or, if no Date field is present, the time that the stored response was received)
  // to evaluate the conditional."
  const { 'last-modified': lastModified, date } = stored.headers;
  const modifiedAt =
    (lastModified !== undefined ? parseHttpDate(lastModified) : undefined) ??
    (date !== undefined ? parseHttpDate(date) : undefined) ??
    stored.responseTime;
  // RFC 9110 §13.1.3: "If the selected representation's last modification date is earlier or equal
  // to the date provided in the field value, the condition is false." False means 304.
  return modifiedAt <= since;
}
