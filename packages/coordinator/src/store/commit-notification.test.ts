import { describe, expect, it } from 'vitest';
import { parseCommitNotification } from './commit-notification.ts';
import { configReloadedRow } from './test-event-rows.ts';

describe('a commit notification', () => {
  const rows = [configReloadedRow(41), configReloadedRow(42)];

  it('carries the sender, the last event id and the rows', () => {
    expect(parseCommitNotification(`c1 42 ${JSON.stringify(rows)}`)).toEqual({
      sender: 'c1',
      lastEventId: 42,
      events: rows,
    });
  });

  it('reads as far as an older coordinator’s payload goes', () => {
    expect(parseCommitNotification('c1 42')).toEqual({ sender: 'c1', lastEventId: 42, events: null });
    expect(parseCommitNotification('c1')).toEqual({ sender: 'c1', lastEventId: null, events: null });
  });

  it('drops rows that are malformed or do not end at the last id, so the reader reads instead', () => {
    expect(parseCommitNotification('c1 42 [{"id":41').events).toBeNull();
    expect(parseCommitNotification(`c1 43 ${JSON.stringify(rows)}`).events).toBeNull();
    expect(parseCommitNotification(`c1 42 ${JSON.stringify([{ ...rows[1], data: 7 }])}`).events).toBeNull();
    expect(parseCommitNotification('c1 42 []').events).toBeNull();
    expect(parseCommitNotification(`c1 x ${JSON.stringify(rows)}`)).toEqual({
      sender: 'c1',
      lastEventId: null,
      events: null,
    });
  });
});
