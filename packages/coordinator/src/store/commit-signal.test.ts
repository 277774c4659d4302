import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Notification, PostgresCommits } from './commit-signal.ts';
import { insertEvents } from './dialect.ts';
import { openDatabase } from './open-database.ts';
import type { EventRecord } from './port.ts';
import { createTestSchema, TEST_POSTGRES_URL, type TestSchema } from './test-database.ts';
import { commitOf, configReloadedRow } from './test-event-rows.ts';

describe('commit signals between coordinators on PostgreSQL', () => {
  let schema: TestSchema;
  let sender: pg.Client;
  const signals: PostgresCommits[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    sender = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await sender.connect();
  });

  afterAll(async () => {
    for (const signal of signals) await signal.close();
    await sender.end();
    await schema.drop();
  });

  async function coordinator(): Promise<{
    signal: PostgresCommits;
    heard: Array<number | null>;
    heardRows: Array<readonly EventRecord[] | undefined>;
    sent: Notification[];
  }> {
    const sent: Notification[] = [];
    const notify = async (notifications: readonly Notification[]) => {
      sent.push(...notifications);
      for (const { channel, payload } of notifications)
        await sender.query('select pg_notify($1, $2)', [channel, payload]);
    };
    const signal = new PostgresCommits(TEST_POSTGRES_URL, schema.name, notify, pino({ level: 'silent' }));
    signals.push(signal);
    const heard: Array<number | null> = [];
    const heardRows: Array<readonly EventRecord[] | undefined> = [];
    signal.onCommit((lastEventId, rows) => {
      heard.push(lastEventId);
      heardRows.push(rows);
    });
    await signal.listen();
    return { signal, heard, heardRows, sent };
  }

  const until = async (condition: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('no notification arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('tells the others the last event id of a commit, and itself at once but not twice', async () => {
    const a = await coordinator();
    const b = await coordinator();
    a.heard.length = 0;
    b.heard.length = 0;
    a.signal.committed(commitOf([configReloadedRow(41), configReloadedRow(42)]));
    expect(a.heard).toEqual([42]);
    await until(() => b.heard.length > 0);
    expect(b.heard).toEqual([42]);
    expect(a.signal.committedHere(42)).toBe(true);
    expect(b.signal.committedHere(42)).toBe(false);
    // Its own notification came back to it too: it was not told again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.heard).toEqual([42]);
  });

  it('lets a transaction announce its events and grown logs from its event insert, delivered only if it commits', async () => {
    const { db } = await openDatabase(schema.url, {});
    try {
      const a = await coordinator();
      const b = await coordinator();
      const grown: number[] = [];
      b.signal.onLogAppended((attemptId) => grown.push(attemptId));
      b.heard.length = 0;
      b.heardRows.length = 0;
      const row = { ...configReloadedRow(0), id: undefined };
      const insert = (trx: typeof db, rows = [row, row]) => insertEvents(trx, rows, false, a.signal.insertNotice([7]));
      await expect(
        db.transaction().execute(async (trx) => {
          await insert(trx);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      const ids = await db.transaction().execute((trx) => insert(trx));
      await until(() => b.heard.length > 0 && grown.length > 0);
      expect(b.heard).toEqual([ids[1]]);
      // The rows came along: the other's change feed need not read them.
      expect(b.heardRows).toEqual([ids.map((id) => configReloadedRow(id))]);
      expect(grown).toEqual([7]);
      // Told the commit was announced, the signal sends nothing of its own.
      const events = ids.map((id) => configReloadedRow(id));
      a.signal.committed({ events, grownLogs: [7], announced: { events: true, logs: new Set([7]) } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(a.sent).toEqual([]);
      expect(b.heard).toEqual([ids[1]]);
      // Rows too long for a notification are left for the reader to read.
      const long = { ...row, data: JSON.stringify({ builders: 1, repos: 1, padding: 'x'.repeat(8000) }) };
      const [longId] = await db.transaction().execute((trx) => insert(trx, [long]));
      await until(() => b.heard.length > 1);
      expect(b.heard.at(-1)).toBe(longId);
      expect(b.heardRows.at(-1)).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });

  it('reads whatever is there on a notification without an id, as an older coordinator sends', async () => {
    const b = await coordinator();
    b.heard.length = 0;
    await sender.query('select pg_notify($1, $2)', [b.signal.channel, 'an-older-coordinator']);
    await until(() => b.heard.length > 0);
    expect(b.heard).toEqual([null]);
  });
});
