import { expect, it } from 'vitest';
import { digestLockKey } from '../digest-lock-records.ts';
import type { DigestLockStore } from '../port.ts';
import { advisoryLockWaiters } from '../test-database.ts';
import { describeStoreContract } from './harness.ts';

// Keys 0x00000abc_00000def and 0x00000abc_00000fed: pg_locks shows them as classid 0xabc and
// objid 0xdef / 0xfed, which no other test's lock uses.
const DIGEST = `00000abc00000def${'a'.repeat(48)}`;
const OTHER = `00000abc00000fed${'b'.repeat(48)}`;

/** A promise and the function that settles it. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Sessions waiting for the advisory lock of `sha256` (PostgreSQL). */
const waitingFor = (sha256: string) => advisoryLockWaiters(digestLockKey(sha256));

/**
 * Holds DIGEST in `holder`; asks `contender` for DIGEST and OTHER meanwhile. The other digest
 * runs at once; the same digest only after the holder left.
 */
async function raceSections(holder: DigestLockStore, contender: DigestLockStore, waiting: () => Promise<void>) {
  const order: string[] = [];
  const leave = gate();
  const held = holder.withDigestLock(DIGEST, async () => {
    order.push('holder in');
    await leave.opened;
    order.push('holder out');
    return 'held';
  });
  await until(() => order.includes('holder in'), 'the holder is inside');
  const same = contender.withDigestLock(DIGEST, async () => {
    order.push('contender in');
    return 'same';
  });
  expect(await contender.withDigestLock(OTHER, async () => 'other')).toBe('other');
  await waiting();
  expect(order).toEqual(['holder in']);
  leave.open();
  expect(await Promise.all([held, same])).toEqual(['held', 'same']);
  expect(order).toEqual(['holder in', 'holder out', 'contender in']);
}

describeStoreContract('digest locks', (t) => {
  it('keys a digest by its first 8 bytes as a signed bigint', () => {
    expect(digestLockKey(`0000000000000001${'0'.repeat(48)}`)).toBe('1');
    expect(digestLockKey('f'.repeat(64))).toBe('-1');
    expect(digestLockKey(`8000000000000000${'f'.repeat(48)}`)).toBe('-9223372036854775808');
    expect(() => digestLockKey('A'.repeat(64))).toThrow(/not a sha256/);
  });

  it('runs one section of a digest at a time in a coordinator, and other digests meanwhile', async () => {
    const locks = t.store.digestLocks;
    // Within a process the queue is in memory: nothing to observe but that it did not run.
    await raceSections(locks, locks, () => new Promise((resolve) => setTimeout(resolve, 50)));
  });

  // One process owns an SQLite farm: only PostgreSQL farms have replicas.
  if (t.dialect === 'postgres') {
    it('runs one section of a digest at a time across two coordinators of one database', async () => {
      const other = await t.openAnother();
      await raceSections(t.store.digestLocks, other.digestLocks, () =>
        until(async () => (await waitingFor(DIGEST)) === 1, 'the other coordinator waits for the lock'),
      );
      // And the other way round: the lock went with the section.
      await raceSections(other.digestLocks, t.store.digestLocks, () =>
        until(async () => (await waitingFor(DIGEST)) === 1, 'the first coordinator waits for the lock'),
      );
    });
  }

  it('gives the lock and its connection back when the section throws', async () => {
    // More failures than the pool has connections: one kept per failure would stall the last.
    for (let i = 0; i < 12; i += 1) {
      await expect(
        t.store.digestLocks.withDigestLock(DIGEST, async () => {
          throw new Error(`failure ${i}`);
        }),
      ).rejects.toThrow(`failure ${i}`);
    }
    const other = t.dialect === 'postgres' ? (await t.openAnother()).digestLocks : t.store.digestLocks;
    expect(await other.withDigestLock(DIGEST, async () => 'entered')).toBe('entered');
  });
});
