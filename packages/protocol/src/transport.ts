/** What the client needs from an HTTP stack: one request, the whole answer back. */
export interface TransportResponse {
  status: number;
  body: Uint8Array;
}

/**
 * Sends one request. Network failures reject (each transport with its platform's error);
 * any HTTP status resolves. The Node entry uses node:http (see http-request.ts), the browser fetch.
 */
export type Transport = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  signal: AbortSignal | undefined,
) => Promise<TransportResponse>;

/** fetch, as browsers and Node have it; same-origin cookies go along, so a signed-in dashboard is authorised. */
export const fetchTransport: Transport = async (method, url, headers, body, signal) => {
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = body as Uint8Array<ArrayBuffer>;
  if (signal) init.signal = signal;
  const response = await fetch(url, init);
  return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
};

/** An answer read as it arrives: a log, the event stream. */
export interface StreamResponse {
  status: number;
  body: AsyncIterable<Uint8Array>;
}

/** Opens a GET whose answer is read as it arrives. Failures reject as a Transport's do. */
export type StreamTransport = (
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
) => Promise<StreamResponse>;

export const fetchStream: StreamTransport = async (url, headers, signal) => {
  const init: RequestInit = { headers, credentials: 'same-origin' };
  if (signal) init.signal = signal;
  const response = await fetch(url, init);
  return { status: response.status, body: response.body ?? new Blob([]).stream() };
};
