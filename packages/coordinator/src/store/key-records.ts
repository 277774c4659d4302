import type { Kysely } from 'kysely';
import type { KeyStore } from './port.ts';
import type { Database } from './schema.ts';

/** Keys made once and shared by every coordinator of the database: the first to store one wins. */
export class KeyRecords implements KeyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async obtain(name: string, generate: () => string): Promise<string> {
    await this.db
      .insertInto('farm_keys')
      .values({ name, key: generate(), created_at: this.clock() })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const row = await this.db.selectFrom('farm_keys').select('key').where('name', '=', name).executeTakeFirstOrThrow();
    return row.key;
  }
}
