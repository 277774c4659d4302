import { expect, it } from 'vitest';
import { describeStoreContract, MINUTE, START } from './harness.ts';

const HOUR = 60 * MINUTE;

describeStoreContract('browser sessions', (t) => {
  const session = (n: number) => ({
    idHash: `id-hash-${n}`,
    tokenName: 'ops',
    tokenHash: 'token-hash',
    csrfToken: `csrf-${n}`,
  });

  it('finds a session until it expires, from any coordinator of the farm', async () => {
    const started = await t.store.sessions.start(session(1), 12 * HOUR);
    expect(started).toEqual({ ...session(1), createdAt: START, expiresAt: START + 12 * HOUR });
    expect(await t.store.sessions.find('id-hash-1')).toEqual(started);
    expect(await t.store.sessions.find('id-hash-2')).toBeNull();
    // Another coordinator on the same database (a replica, or this one after a restart).
    const other = await t.openAnother();
    expect(await other.sessions.find('id-hash-1')).toEqual(started);

    t.clock.advance(12 * HOUR - 1);
    expect(await t.store.sessions.find('id-hash-1')).toEqual(started);
    t.clock.advance(1);
    expect(await t.store.sessions.find('id-hash-1')).toBeNull();
  });

  it('ends a session at sign-out, for every coordinator', async () => {
    await t.store.sessions.start(session(1), HOUR);
    await t.store.sessions.start(session(2), HOUR);
    const other = await t.openAnother();
    await other.sessions.end('id-hash-1');
    await other.sessions.end('never-was');
    expect(await t.store.sessions.find('id-hash-1')).toBeNull();
    expect(await t.store.sessions.find('id-hash-2')).not.toBeNull();
  });

  it('forgets the sessions that have expired, and only those', async () => {
    await t.store.sessions.start(session(1), HOUR);
    await t.store.sessions.start(session(2), 2 * HOUR);
    await t.store.sessions.start(session(3), 3 * HOUR);
    expect(await t.store.sessions.deleteExpired()).toBe(0);
    t.clock.advance(2 * HOUR);
    expect(await t.store.sessions.deleteExpired()).toBe(2);
    expect(await t.store.sessions.find('id-hash-3')).not.toBeNull();
    t.clock.advance(-2 * HOUR);
    // Gone from the table, not just past their expiry.
    expect(await t.store.sessions.find('id-hash-1')).toBeNull();
    expect(await t.store.sessions.find('id-hash-2')).toBeNull();
  });
});
