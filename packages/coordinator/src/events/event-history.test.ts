import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFarmStore } from '../store/open-store.ts';
import type { EventRecord, FarmStore } from '../store/port.ts';
import { columnsAdmit, EventHistory, type HistoryMetrics } from './event-history.ts';
import { EventLog } from './event-log.ts';
import { type EventSelection, selectEvents } from './logged-event.ts';

function countingMetrics() {
  const counts = { reads: 0, cached: 0, mostCached: 0 };
  const metrics: HistoryMetrics = {
    read: () => {
      counts.reads += 1;
    },
    cached: (count) => {
      counts.cached = count;
      counts.mostCached = Math.max(counts.mostCached, count);
    },
  };
  return { counts, metrics };
}

/** Reads the whole log from `since` as a stream does, page by page, and returns the ids it got. */
async function replay(log: EventLog, selection: EventSelection, since = 0, limit = 500): Promise<number[]> {
  const ids: number[] = [];
  let cursor = since;
  while (cursor < log.lastId) {
    const page = await log.read(cursor, limit, selection);
    expect(page.cursor).toBeGreaterThan(cursor);
    for (const logged of page.events) ids.push(logged.event.id);
    cursor = page.cursor;
  }
  return ids;
}

describe('EventHistory', () => {
  let dir: string;
  let store: FarmStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-event-history-'));
    store = await openFarmStore(join(dir, 'switchyard.db'), { agingMs: () => 0, logger: pino({ level: 'silent' }) });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function history(events: number): Promise<number[]> {
    for (let i = 1; i <= events; i++) await store.events.recordConfigReload(i, i % 3);
    return Array.from({ length: events }, (_, i) => i + 1);
  }

  it('gives readers at the same place one store read per batch, and each reader every event once, in order', async () => {
    const all = await history(1_234);
    const { counts, metrics } = countingMetrics();
    // The ring is empty, as after a restart: everything comes from the store.
    const log = new EventLog(store.events, await store.events.lastId(), { metrics });
    const everything = selectEvents({});
    const reloads = selectEvents({ types: ['config.reloaded'] });
    const readers = await Promise.all([
      ...Array.from({ length: 20 }, () => replay(log, everything)),
      replay(log, reloads, 0, 7),
      replay(log, everything, 600),
    ]);
    for (const ids of readers.slice(0, 21)) expect(ids).toEqual(all);
    expect(readers[21]).toEqual(all.slice(600));
    // (0, 500], (500, 1000], (1000, 1234]: three reads for 22 readers.
    expect(counts.reads).toBe(3);
  });

  it('keeps at most the batches it may, and reads a batch cut short at the end again for what committed since', async () => {
    const all = await history(4_600);
    const { counts, metrics } = countingMetrics();
    const events = new EventHistory(store.events, metrics, 8);
    const everything = selectEvents({});
    const ids: number[] = [];
    let cursor = 0;
    while (cursor < 4_400) {
      const page = await events.read(cursor, 4_400, 500, everything);
      ids.push(...page.events.map((logged) => logged.event.id));
      cursor = page.cursor;
    }
    expect(ids).toEqual(all.slice(0, 4_400));
    // Nine batches, the last (4000, 4400] cut short at the end the change feed had reached.
    expect(counts.reads).toBe(9);
    expect(counts.mostCached).toBe(8);
    // The change feed has published more: the reader at 4400 gets the rest of that batch, then the next.
    const rest = await events.read(4_400, 4_600, 500, everything);
    expect(rest.events.map((logged) => logged.event.id)).toEqual(all.slice(4_400, 4_500));
    expect(rest.cursor).toBe(4_500);
    const last = await events.read(4_500, 4_600, 500, everything);
    expect(last.events.map((logged) => logged.event.id)).toEqual(all.slice(4_500));
    expect(counts.reads).toBe(11);
  });

  it('ends a page at its limit, and the next page goes on after its last event', async () => {
    const all = await history(40);
    const events = new EventHistory(store.events, countingMetrics().metrics);
    const first = await events.read(0, 40, 15, selectEvents({}));
    expect(first.events.map((logged) => logged.event.id)).toEqual(all.slice(0, 15));
    expect(first.cursor).toBe(15);
    const rest = await events.read(first.cursor, 40, 100, selectEvents({}));
    expect(rest.events.map((logged) => logged.event.id)).toEqual(all.slice(15));
    // Nothing past the end the change feed has published, even though the store has it.
    await store.events.recordConfigReload(0, 0);
    expect((await events.read(30, 40, 100, selectEvents({}))).cursor).toBe(40);
  });

  it('reads a batch again after a failed read, and tells only the readers of that read', async () => {
    await history(10);
    let fail = true;
    const flaky = {
      readAfter: (afterId: number, limit: number) =>
        fail ? Promise.reject(new Error('database away')) : store.events.readAfter(afterId, limit),
    };
    const events = new EventHistory(flaky, countingMetrics().metrics);
    await expect(events.read(0, 10, 500, selectEvents({}))).rejects.toThrow('database away');
    fail = false;
    expect((await events.read(0, 10, 500, selectEvents({}))).events).toHaveLength(10);
  });
});

describe('columnsAdmit', () => {
  const row: EventRecord = {
    id: 7,
    type: 'job.pending',
    created_at: 0,
    repo: 'app',
    branch: 'main',
    builder: 'talos',
    job_id: 12,
    push_id: 3,
    data: '{}',
  };

  it('lets a row through when every column the filter names agrees', () => {
    expect(columnsAdmit(row, {})).toBe(true);
    expect(
      columnsAdmit(row, {
        types: ['job.pending', 'job.finished'],
        repo: 'app',
        branch: 'main',
        builder: 'talos',
        job: 12,
        push: 3,
        author: 'whoever: not a column',
      }),
    ).toBe(true);
  });

  it('rules a row out on any column that disagrees', () => {
    expect(columnsAdmit(row, { types: ['job.finished'] })).toBe(false);
    expect(columnsAdmit(row, { repo: 'docs' })).toBe(false);
    expect(columnsAdmit(row, { branch: 'try/1' })).toBe(false);
    expect(columnsAdmit(row, { builder: 'build' })).toBe(false);
    expect(columnsAdmit(row, { job: 13 })).toBe(false);
    expect(columnsAdmit(row, { push: 4 })).toBe(false);
    expect(columnsAdmit({ ...row, repo: null, branch: null }, { repo: 'app' })).toBe(false);
  });
});
