import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../config/farm-config.ts';
import type { SessionStore } from '../store/port.ts';

/** A browser session lasts this long from sign-in; signing in again starts a new one. */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** A cookie value longer than any id this makes names no session, and is not hashed. */
const MAX_ID_LENGTH = 100;

export interface BrowserSession {
  /** The random id the cookie holds; the store keeps only its sha256. */
  id: string;
  /** Repeated by the page in the CSRF header on every change it asks for. */
  csrfToken: string;
  /** The sha256 of the token signed in with: its scopes are looked up in the config in force at each request. */
  tokenHash: string;
  expiresAt: number;
}

/**
 * Signed-in browsers, kept in the store: every coordinator of the farm knows them, and a restart
 * signs no one out. A session ends at sign-out or at expiry. The cookie holds only a random id,
 * so a session is revoked by forgetting it, and a token removed from the config stops working
 * for its sessions at once.
 */
export class Sessions {
  constructor(private readonly store: SessionStore) {}

  async start(tokenHash: string, tokenName: string): Promise<BrowserSession> {
    // Signing in is rare and the index finds them: the table keeps only sessions still running.
    await this.store.deleteExpired();
    const id = randomBytes(32).toString('base64url');
    const record = await this.store.start(
      { idHash: sha256Hex(id), tokenName, tokenHash, csrfToken: randomBytes(32).toString('base64url') },
      SESSION_LIFETIME_MS,
    );
    return { id, csrfToken: record.csrfToken, tokenHash, expiresAt: record.expiresAt };
  }

  async find(id: string | undefined): Promise<BrowserSession | undefined> {
    if (id === undefined || id === '' || id.length > MAX_ID_LENGTH) return undefined;
    const record = await this.store.find(sha256Hex(id));
    if (!record) return undefined;
    return { id, csrfToken: record.csrfToken, tokenHash: record.tokenHash, expiresAt: record.expiresAt };
  }

  async end(id: string | undefined): Promise<void> {
    if (id === undefined || id === '' || id.length > MAX_ID_LENGTH) return;
    await this.store.end(sha256Hex(id));
  }
}
