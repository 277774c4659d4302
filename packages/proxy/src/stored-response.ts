import type { IncomingHttpHeaders } from 'node:http';
import { currentAge } from './freshness.ts';
import { forwardableHeaders } from './upstream-client.ts';
import type { FieldLines } from './vary.ts';

/** What the cache keeps of an origin's response besides its body: enough to judge and serve it later. */
export interface StoredResponse {
  status: number;
  /** The response's header fields as stored (RFC 9111 §3.1): without the hop-by-hop ones. */
  headers: IncomingHttpHeaders;
  /** When the request that brought the response was sent, in milliseconds since the epoch. */
  requestTime: number;
  /** When the response's header section arrived. */
  responseTime: number;
}

/**
 * Node keeps the first of several `Expires` lines and drops the rest; RFC 9111 §4.2.1 says of
 * "two Expires header field lines" that "either the first occurrence should be used or the
 * response should be considered stale". Kept as the list they make, they are no HTTP-date, so
 * the response is stale.
 */
function storableFields(headers: IncomingHttpHeaders, fieldLines: FieldLines): IncomingHttpHeaders {
  const fields = forwardableHeaders(headers);
  const expires = fieldLines.expires;
  if (expires && expires.length > 1) fields.expires = expires.join(', ');
  return fields;
}

export function receivedResponse(
  status: number,
  headers: IncomingHttpHeaders,
  fieldLines: FieldLines,
  requestTime: number,
  responseTime: number,
): StoredResponse {
  const fields = storableFields(headers, fieldLines);
  // RFC 9110 §6.6.1: "A recipient with a clock that receives a response message without a Date
  // header field MUST record the time it was received and append a corresponding Date header field
  // to the message's header section if it is cached or forwarded downstream."
  fields.date ??= new Date(responseTime).toUTCString();
  return { status, headers: fields, requestTime, responseTime };
}

/**
 * Fields a 304 does not replace (RFC 9111 §3.2): Content-Length, and those the stored body depends
 * on — its coding and its range are those of the bytes on disk, whatever the 304 says.
 */
const KEPT_FROM_STORED = ['content-length', 'content-encoding', 'content-range'];

/**
 * The stored response freshened by a 304 (RFC 9111 §4.3.4): "the cache MUST update its header fields
 * with the header fields provided in the 304 (Not Modified) response, as per Section 3.2", which
 * says "the cache MUST add each header field in the provided response to the stored response,
 * replacing field values that are already present". Fields the 304 lacks stay, except `Age`: it
 * described the old message, and the response has just been validated, so the age starts again
 * from the 304's own `Age`, if any.
 */
export function freshened(
  stored: StoredResponse,
  notModifiedHeaders: IncomingHttpHeaders,
  fieldLines: FieldLines,
  requestTime: number,
  responseTime: number,
): StoredResponse {
  const update = storableFields(notModifiedHeaders, fieldLines);
  for (const name of KEPT_FROM_STORED) delete update[name];
  const { age: _staleAge, ...kept } = stored.headers;
  const headers = { ...kept, ...update };
  headers.date ??= new Date(responseTime).toUTCString();
  return { status: stored.status, headers, requestTime, responseTime };
}

/**
 * The header fields to send with a stored response. RFC 9111 §4: "When a stored response is used
 * to satisfy a request without validation, a cache MUST generate an Age header field, replacing any
 * present in the response with a value equal to the stored response's current_age".
 */
export function headersToServe(stored: StoredResponse, now: number): IncomingHttpHeaders {
  return { ...stored.headers, age: String(Math.floor(currentAge(stored, now))) };
}
