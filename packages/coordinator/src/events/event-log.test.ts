import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';
import { configReloadedRow } from '../store/test-event-rows.ts';
import { EventLog } from './event-log.ts';
import { type LoggedEvent, selectEvents, toLoggedEvent } from './logged-event.ts';

function reloaded(id: number): LoggedEvent {
  return toLoggedEvent(configReloadedRow(id));
}

describe('EventLog', () => {
  let dir: string;
  let store: FarmStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-event-log-'));
    store = await openFarmStore(join(dir, 'switchyard.db'), { agingMs: () => 0, logger: pino({ level: 'silent' }) });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a reader parked after an id beyond the end of the log after that id', async () => {
    const log = new EventLog(store.events, await store.events.lastId());
    // A Last-Event-ID from before the database was reset: the reader asked for what comes after 100.
    const waiting = log.waitForMatch(100, selectEvents({}), new AbortController().signal);
    log.publish([reloaded(1)]);
    log.publish([reloaded(101)]);
    expect(await waiting).toBeGreaterThanOrEqual(100);
  });
});
