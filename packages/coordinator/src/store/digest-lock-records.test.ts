import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigestLockRecords } from './digest-lock-records.ts';
import { type OpenedDatabase, openDatabase } from './open-database.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';

const DIGEST = `00000abc00000abc${'c'.repeat(48)}`;
const IDLE_TIMEOUT_MS = 400;
/** Longer than the idle timeout, by far. */
const SECTION_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A holder's session, as a replica's pool would give it, with the server's idle-in-transaction
 * timeout shortened from the farm's 60 s: one connection, so the setting is the lock's session's.
 */
async function holderDatabase(url: string): Promise<OpenedDatabase> {
  const opened = await openDatabase(url, { poolSize: 1 });
  await sql`set idle_in_transaction_session_timeout = ${sql.lit(IDLE_TIMEOUT_MS)}`.execute(opened.db);
  return opened;
}

describe('digest locks on PostgreSQL: a holder the server gives up on', () => {
  let schema: TestSchema;
  const opened: OpenedDatabase[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
  });

  afterEach(async () => {
    for (const database of opened.splice(0)) await database.db.destroy();
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('keeps a section longer than the idle timeout inside its lock, by pinging its transaction', async () => {
    const holder = await holderDatabase(schema.url);
    opened.push(holder);
    const locks = new DigestLockRecords(holder.db, 'postgres', { keepAliveMs: IDLE_TIMEOUT_MS / 4 });
    expect(
      await locks.withDigestLock(DIGEST, async () => {
        await sleep(SECTION_MS);
        return 'done';
      }),
    ).toBe('done');
    // The session survived: the pool's one connection answers.
    expect((await sql<{ one: number }>`select 1 as one`.execute(holder.db)).rows).toEqual([{ one: 1 }]);
  });

  it('ends the lock of a holder that stopped talking, lets another replica in, and tells the holder', async () => {
    const holder = await holderDatabase(schema.url);
    const replica = await openDatabase(schema.url, { poolSize: 2 });
    opened.push(holder, replica);
    // No ping within the section: as if its event loop had stalled.
    const stalled = new DigestLockRecords(holder.db, 'postgres', { keepAliveMs: 60_000 });
    const other = new DigestLockRecords(replica.db, 'postgres');
    const order: string[] = [];
    const holding = stalled.withDigestLock(DIGEST, async () => {
      order.push('holder in');
      await sleep(SECTION_MS);
      order.push('holder out');
    });
    while (!order.includes('holder in')) await sleep(10);
    await other.withDigestLock(DIGEST, async () => {
      order.push('other in');
    });
    await expect(holding).rejects.toThrow();
    expect(order).toEqual(['holder in', 'other in', 'holder out']);
    // The broken connection went back to the pool and was replaced.
    expect((await sql<{ one: number }>`select 1 as one`.execute(holder.db)).rows).toEqual([{ one: 1 }]);
  });
});
