import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCommits } from '../store/commit-signal.ts';
import type { EventRecord } from '../store/port.ts';
import { commitOf, configReloadedRow } from '../store/test-event-rows.ts';
import { ChangeFeed } from './change-feed.ts';

const POLL_MS = 60_000;

/** An events table in memory that counts its reads. */
class EventTable {
  readonly rows: EventRecord[] = [];
  reads = 0;

  /** Commits `count` events (ids go on from the last one, or from `from`); returns their rows. */
  append(count: number, from = (this.rows.at(-1)?.id ?? 0) + 1): EventRecord[] {
    const added = Array.from({ length: count }, (_, i) => configReloadedRow(from + i));
    this.rows.push(...added);
    return added;
  }

  async readAfter(afterId: number, limit: number): Promise<EventRecord[]> {
    this.reads += 1;
    return this.rows.filter((row) => row.id > afterId).slice(0, limit);
  }
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('the change feed', () => {
  let feed: ChangeFeed | undefined;

  afterEach(async () => {
    await feed?.stop();
  });

  function started(table: EventTable, commits: LocalCommits): number[] {
    const delivered: number[] = [];
    feed = new ChangeFeed(table, commits, 0, POLL_MS, pino({ level: 'silent' }));
    feed.subscribe((batch) => delivered.push(...batch.map((logged) => logged.event.id)));
    feed.start();
    return delivered;
  }

  it('delivers each commit once, in id order', async () => {
    const table = new EventTable();
    const commits = new LocalCommits();
    const delivered = started(table, commits);
    commits.committed(commitOf(table.append(2)));
    commits.committed(commitOf(table.append(3)));
    await settled();
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it("delivers this process's commits that follow its cursor without reading them", async () => {
    const table = new EventTable();
    const commits = new LocalCommits();
    const delivered = started(table, commits);
    await settled();
    const reads = table.reads;
    commits.committed(commitOf(table.append(2)));
    commits.committed(commitOf(table.append(1)));
    await settled();
    commits.committed(commitOf(table.append(3)));
    await settled();
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
    expect(table.reads).toBe(reads);
  });

  it('reads when a commit of its own leaves a gap after its cursor, and skips nothing', async () => {
    const table = new EventTable();
    const commits = new LocalCommits();
    const delivered = started(table, commits);
    await settled();
    const reads = table.reads;
    // Another coordinator committed 1 and 2; this one's notification is still on its way.
    table.append(2);
    commits.committed(commitOf(table.append(1)));
    await settled();
    expect(delivered).toEqual([1, 2, 3]);
    expect(table.reads).toBe(reads + 1);
    // An id a rolled-back transaction drew is never committed: the gap is read past as well.
    commits.committed(commitOf(table.append(1, 5)));
    await settled();
    expect(delivered).toEqual([1, 2, 3, 5]);
    expect(table.reads).toBe(reads + 2);
  });

  it('delivers rows it read of a commit of its own only once that commit is told, as committed here', async () => {
    const table = new EventTable();
    const commits = new LocalCommits();
    feed = new ChangeFeed(table, commits, 0, POLL_MS, pino({ level: 'silent' }));
    const seen: { id: number; here: boolean }[] = [];
    feed.subscribe((batch) => {
      for (const logged of batch) seen.push({ id: logged.event.id, here: commits.committedHere(logged.event.id) });
    });
    feed.start();
    await settled();
    // This process's commit is visible in the table while its answer is still on its way, and
    // another coordinator's notification makes the feed read it.
    const told = commits.committing();
    const ours = table.append(2);
    commits.announce(null);
    await settled();
    expect(seen).toEqual([]);
    commits.committed(commitOf(ours));
    told();
    await settled();
    expect(seen).toEqual([
      { id: 1, here: true },
      { id: 2, here: true },
    ]);
  });

  it('does not read again for a commit it has already read past', async () => {
    const table = new EventTable();
    const commits = new LocalCommits();
    const delivered = started(table, commits);
    await settled();
    // Another coordinator's events are read with this one's, before its notification arrives.
    const theirs = table.append(2);
    commits.committed(commitOf(table.append(1)));
    await settled();
    const reads = table.reads;
    commits.announce(Math.max(...theirs.map((row) => row.id)));
    await settled();
    expect(table.reads).toBe(reads);
    expect(delivered).toEqual([1, 2, 3]);
  });

  it('reads for a commit past its cursor, or of an unknown range', async () => {
    const table = new EventTable();
    const commits = new LocalCommits();
    const delivered = started(table, commits);
    await settled();
    commits.announce(Math.max(...table.append(2).map((row) => row.id)));
    await settled();
    expect(delivered).toEqual([1, 2]);
    table.append(1);
    commits.announce(null);
    await settled();
    expect(delivered).toEqual([1, 2, 3]);
  });
});
