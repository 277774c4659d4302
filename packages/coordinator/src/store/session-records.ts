import type { Kysely } from 'kysely';
import type { NewSession, SessionRecord, SessionStore } from './port.ts';
import type { Database } from './schema.ts';

/** Browser sessions in the database, so every coordinator of the farm, and the next one after a restart, knows them. */
export class SessionRecords implements SessionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async start(session: NewSession, lifetimeMs: number): Promise<SessionRecord> {
    const now = this.clock();
    const record: SessionRecord = { ...session, createdAt: now, expiresAt: now + lifetimeMs };
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: record.idHash,
        token_name: record.tokenName,
        token_hash: record.tokenHash,
        csrf_token: record.csrfToken,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
      })
      .execute();
    return record;
  }

  async find(idHash: string): Promise<SessionRecord | null> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .where('expires_at', '>', this.clock())
      .executeTakeFirst();
    if (!row) return null;
    return {
      idHash: row.id_hash,
      tokenName: row.token_name,
      tokenHash: row.token_hash,
      csrfToken: row.csrf_token,
      createdAt: Number(row.created_at),
      expiresAt: Number(row.expires_at),
    };
  }

  async end(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteExpired(): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', this.clock()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
