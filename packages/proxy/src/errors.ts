import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '@switchyard/protocol';

/** Answers with the project's JSON error body, unless the response has already begun (then it is cut off). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode | string,
  message: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, details } });
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
