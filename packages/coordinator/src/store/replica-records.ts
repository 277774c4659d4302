import type { Kysely } from 'kysely';
import { decideSingleton } from '../replicas/singleton-decision.ts';
import { dialectOf } from './dialect.ts';
import { singletonLost } from './errors.ts';
import type {
  NewReplica,
  ReplicaRecord,
  ReplicaStore,
  SingletonClaim,
  SingletonFence,
  SingletonRecord,
} from './port.ts';
import type { Database } from './schema.ts';
import type { Store } from './store.ts';
import type { WriteContext } from './write-context.ts';

/**
 * The coordinator processes sharing this database, the singleton leases they hold, and the
 * settings they share. Times are the store's (the database's clock on PostgreSQL), so replicas
 * on machines whose clocks disagree still agree on who holds what.
 */
export class ReplicaRecords implements ReplicaStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: Store,
  ) {}

  async heartbeat(replica: NewReplica): Promise<void> {
    await this.store.write(async (ctx) => {
      await ctx.trx
        .insertInto('replicas')
        .values({
          id: replica.id,
          hostname: replica.hostname,
          pid: replica.pid,
          url: replica.url,
          version: replica.version,
          started_at: ctx.now,
          last_seen: ctx.now,
          stopped_at: null,
        })
        .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen: ctx.now, url: replica.url }))
        .execute();
    });
  }

  async stopped(id: string): Promise<void> {
    await this.store.write(async (ctx) => {
      await ctx.trx
        .updateTable('replicas')
        .set({ stopped_at: ctx.now, last_seen: ctx.now })
        .where('id', '=', id)
        .execute();
    });
  }

  async list(): Promise<{ now: number; replicas: ReplicaRecord[]; singletons: SingletonRecord[] }> {
    return this.store.write(async (ctx) => {
      const replicas = await ctx.trx.selectFrom('replicas').selectAll().orderBy('started_at').execute();
      const singletons = await ctx.trx.selectFrom('singletons').selectAll().orderBy('name').execute();
      return {
        now: ctx.now,
        replicas: replicas.map((row) => ({
          id: row.id,
          hostname: row.hostname,
          pid: row.pid,
          url: row.url,
          version: row.version,
          startedAt: row.started_at,
          lastSeen: row.last_seen,
          stoppedAt: row.stopped_at,
        })),
        singletons: singletons.map((row) => ({
          name: row.name,
          holder: row.holder,
          term: row.term,
          expiresAt: row.expires_at,
          acquiredAt: row.acquired_at,
        })),
      };
    });
  }

  /** Forgets replicas that stopped, or were last seen, before `before` (the store's time). */
  async forgetBefore(before: number): Promise<number> {
    const forgotten = await this.db.deleteFrom('replicas').where('last_seen', '<', before).executeTakeFirst();
    return Number(forgotten.numDeletedRows);
  }

  async claimSingleton(name: string, holder: string, term: number | null, leaseMs: number): Promise<SingletonClaim> {
    return this.store.write(async (ctx) => {
      const row = await ctx.trx
        .selectFrom('singletons')
        .selectAll()
        .where('name', '=', name)
        .$if(dialectOf(ctx.trx) === 'postgres', (q) => q.forUpdate())
        .executeTakeFirst();
      const current = row ? { holder: row.holder, term: row.term, expiresAt: row.expires_at } : null;
      const decision = decideSingleton(current, { holder, term }, ctx.now);
      const expiresAt = ctx.now + leaseMs;
      if (decision.kind === 'held-elsewhere') return { held: false, ...decision.by };
      if (decision.kind === 'renew') {
        await ctx.trx
          .updateTable('singletons')
          .set({ expires_at: expiresAt })
          .where('name', '=', name)
          .where('holder', '=', holder)
          .where('term', '=', term as number)
          .execute();
        return { held: true, term: term as number, expiresAt };
      }
      if (row) {
        await ctx.trx
          .updateTable('singletons')
          .set({ holder, term: decision.term, expires_at: expiresAt, acquired_at: ctx.now })
          .where('name', '=', name)
          .where('term', '=', row.term)
          .execute();
        return { held: true, term: decision.term, expiresAt };
      }
      // Two replicas may both find no row: the primary key lets one insert it; the other is told who won.
      const inserted = await ctx.trx
        .insertInto('singletons')
        .values({ name, holder, term: decision.term, expires_at: expiresAt, acquired_at: ctx.now })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning('term')
        .executeTakeFirst();
      if (inserted) return { held: true, term: decision.term, expiresAt };
      const winner = await ctx.trx
        .selectFrom('singletons')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      return { held: false, holder: winner.holder, term: winner.term, expiresAt: winner.expires_at };
    });
  }

  async releaseSingleton(fence: SingletonFence): Promise<void> {
    await this.store.write(async (ctx) => {
      // Expired rather than deleted: the term only ever grows, so a fence of this term stays void.
      await ctx.trx
        .updateTable('singletons')
        .set({ expires_at: ctx.now - 1 })
        .where('name', '=', fence.name)
        .where('holder', '=', fence.holder)
        .where('term', '=', fence.term)
        .execute();
    });
  }

  async setting(name: string): Promise<string | null> {
    const row = await this.db.selectFrom('farm_settings').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value ?? null;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('farm_settings')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  }
}

/**
 * Refuses the enclosing write (`singleton-lost`) unless `fence` still holds its singleton: same
 * holder, same term, lease not expired, by the transaction's time. On PostgreSQL the row is
 * share-locked to the commit, so a takeover (which updates it) waits for this write to commit
 * and then reads what it wrote (the cursor it moved), or commits first and this one is refused.
 */
export async function requireFence(ctx: WriteContext, fence: SingletonFence): Promise<void> {
  const row = await ctx.trx
    .selectFrom('singletons')
    .select('term')
    .where('name', '=', fence.name)
    .where('holder', '=', fence.holder)
    .where('term', '=', fence.term)
    .where('expires_at', '>=', ctx.now)
    .$if(dialectOf(ctx.trx) === 'postgres', (q) => q.forShare())
    .executeTakeFirst();
  if (!row) throw singletonLost(fence);
}
