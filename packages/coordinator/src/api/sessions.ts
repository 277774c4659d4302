import { randomBytes } from 'node:crypto';

/** A browser session lasts this long from sign-in; signing in again starts a new one. */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** Enough for every browser of a large team; the oldest go first past it. */
const MAX_SESSIONS = 10_000;

export interface BrowserSession {
  id: string;
  /** Repeated by the page in the CSRF header on every change it asks for. */
  csrfToken: string;
  /** The sha256 of the token signed in with: its scopes are looked up in the config in force at each request. */
  tokenHash: string;
  expiresAt: number;
}

/**
 * Signed-in browsers, in this process's memory: a session ends at sign-out, at expiry, or when
 * the coordinator restarts (the page then asks to sign in again). The cookie holds only a random
 * id, so a session is revoked by forgetting it here, and a token removed from the config stops
 * working for its sessions at once.
 */
export class Sessions {
  private readonly sessions = new Map<string, BrowserSession>();

  constructor(private readonly clock: () => number = Date.now) {}

  start(tokenHash: string): BrowserSession {
    const session: BrowserSession = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      tokenHash,
      expiresAt: this.clock() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(session.id, session);
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    return session;
  }

  find(id: string | undefined): BrowserSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session && session.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }
}
