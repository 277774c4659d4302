import type { EventRecord } from './port.ts';

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

/**
 * A commit's notification on the events channel, as dialect.ts's event insert sends it:
 * `<sender> <last event id> <the commit's event rows as a JSON array>`, the rows left out when
 * they would not fit the payload. A coordinator whose change feed is just before those rows
 * delivers them without reading (change-feed.ts). Older coordinators sent `<sender>` alone, then
 * `<sender> <last event id>`; every form reads as far as it goes.
 */
export interface CommitNotification {
  sender: string;
  lastEventId: number | null;
  events: EventRecord[] | null;
}

export function parseCommitNotification(payload: string): CommitNotification {
  const [sender = '', lastId = '', rows = ''] = splitTwice(payload);
  const lastEventId = /^\d+$/.test(lastId) ? Number(lastId) : null;
  return { sender, lastEventId, events: lastEventId === null ? null : eventRowsUpTo(rows, lastEventId) };
}

function splitTwice(payload: string): string[] {
  const first = payload.indexOf(' ');
  if (first < 0) return [payload];
  const second = payload.indexOf(' ', first + 1);
  if (second < 0) return [payload.slice(0, first), payload.slice(first + 1)];
  return [payload.slice(0, first), payload.slice(first + 1, second), payload.slice(second + 1)];
}

/** The rows, if they are a well-formed run of event rows ending at `lastEventId`; else null (read instead). */
function eventRowsUpTo(json: string, lastEventId: number): EventRecord[] | null {
  if (json === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every(isEventRow)) return null;
  return (parsed.at(-1) as EventRecord).id === lastEventId ? parsed : null;
}

function isEventRow(row: unknown): row is EventRecord {
  if (typeof row !== 'object' || row === null) return false;
  const { id, type, created_at, data } = row as Record<string, unknown>;
  return (
    Number.isSafeInteger(id) && typeof type === 'string' && typeof created_at === 'number' && typeof data === 'string'
  );
}
