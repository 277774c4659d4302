import { describe, expect, it } from 'vitest';
import { SESSION_LIFETIME_MS, Sessions } from './sessions.ts';

describe('browser sessions', () => {
  it('finds a session by its id until it ends or expires', () => {
    let now = 1_000;
    const sessions = new Sessions(() => now);
    const session = sessions.start('hash-of-token');
    expect(session.id).not.toBe(session.csrfToken);
    expect(sessions.find(session.id)).toBe(session);
    expect(sessions.find('someone-else')).toBeUndefined();
    expect(sessions.find(undefined)).toBeUndefined();

    now += SESSION_LIFETIME_MS;
    expect(sessions.find(session.id)).toBeUndefined();

    const next = sessions.start('hash-of-token');
    sessions.end(next.id);
    expect(sessions.find(next.id)).toBeUndefined();
  });
});
