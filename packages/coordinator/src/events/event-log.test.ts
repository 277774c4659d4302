import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventAttributes, routingKeyOf, type SwitchyardEvent } from '@switchyard/protocol';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../store/open-database.ts';
import type { Database } from '../store/schema.ts';
import type { CommittedEvent } from '../store/write-context.ts';
import { EventLog, selectEvents } from './event-log.ts';

function reloaded(id: number): CommittedEvent {
  const data = { builders: 1, repos: 1 };
  const attributes = eventAttributes('config.reloaded', data);
  const event = {
    id,
    type: 'config.reloaded',
    time: new Date(0).toISOString(),
    routingKey: routingKeyOf('config.reloaded', attributes),
    data,
  } as SwitchyardEvent;
  return { event, dims: {}, attributes };
}

describe('EventLog', () => {
  let dir: string;
  let db: Kysely<Database>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-event-log-'));
    db = await openSqlite(join(dir, 'switchyard.db'));
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a reader parked after an id beyond the end of the log after that id', async () => {
    const log = new EventLog(db);
    await log.init();
    // A Last-Event-ID from before the database was reset: the reader asked for what comes after 100.
    const waiting = log.waitForMatch(100, selectEvents({}), new AbortController().signal);
    log.publish([reloaded(1)]);
    log.publish([reloaded(101)]);
    expect(await waiting).toBeGreaterThanOrEqual(100);
  });
});
