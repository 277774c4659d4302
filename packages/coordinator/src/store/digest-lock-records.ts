import { type Kysely, sql, type Transaction } from 'kysely';
import type { DialectName } from './dialect.ts';
import { DigestLocks } from './digest-locks.ts';
import { IDLE_IN_TRANSACTION_MS } from './open-database.ts';
import type { DigestLockStore } from './port.ts';
import type { Database } from './schema.ts';

export interface DigestLockOptions {
  /**
   * Sections that may hold a pooled connection for their lock at once (default 4 of the pool's
   * 10): the work inside needs connections of its own (the record, the forget), so lock holders
   * must never take the whole pool, or each would wait for a connection another holds.
   */
  connections?: number;
  /** How often a held lock's idle transaction says a word to the server (default a third of IDLE_IN_TRANSACTION_MS: 5 s). */
  keepAliveMs?: number;
}

/**
 * Digest locks. The in-process queue comes first on both databases: callers of one digest in
 * this process wait there for free, not each on a pooled connection of its own (a burst of
 * uploads of one content would otherwise take the pool). On SQLite that is all: one process
 * owns an SQLite farm. On PostgreSQL the queue's head also takes a transaction-scoped advisory
 * lock on the digest, so no two replicas are inside a section of one digest at once.
 */
export class DigestLockRecords implements DigestLockStore {
  private readonly local = new DigestLocks();
  private readonly connections: Slots;
  private readonly keepAliveMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    options: DigestLockOptions = {},
  ) {
    this.connections = new Slots(options.connections ?? 4);
    this.keepAliveMs = options.keepAliveMs ?? IDLE_IN_TRANSACTION_MS / 3;
  }

  withDigestLock<T>(sha256: string, work: () => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') return this.local.run(sha256, work);
    return this.local.run(sha256, () => this.connections.use(() => this.acrossReplicas(sha256, work)));
  }

  /**
   * Holds `pg_advisory_xact_lock` in a transaction of its own on a dedicated pooled connection
   * while `work` runs on others; the commit (or the rollback when `work` throws) releases the
   * lock and Kysely gives the connection back to the pool either way.
   *
   * A holder that crashes loses its connection and with it the lock at once. One that hangs with
   * its connection open is ended by the server: the session's `idle_in_transaction_session_timeout`
   * (15 s, open-database.ts) ends the transaction, and the lock with it. So that a long section
   * (a multi-gigabyte S3 copy) is not taken for a hung one, the holder runs `select 1` on its
   * transaction every `keepAliveMs` while `work` runs; a hung event loop stops those too.
   */
  private acrossReplicas<T>(sha256: string, work: () => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${digestLockKey(sha256)}::bigint)`.execute(trx);
      const keepAlive = new KeepAlive(trx, this.keepAliveMs);
      let result: T;
      try {
        result = await work();
      } finally {
        await keepAlive.stop();
      }
      if (keepAlive.failure !== null) {
        // The section's effects are done, but maybe not alone: say so rather than report success.
        throw new Error(`the database session holding the lock of digest ${sha256} failed while it was held`, {
          cause: keepAlive.failure,
        });
      }
      return result;
    });
  }
}

/**
 * The advisory lock key of a digest: its first 8 bytes as a signed bigint. Two digests that share
 * them (odds 2^-64 a pair) only wait for each other; so would a digest whose key happened to equal
 * one of the farm's small fixed lock numbers.
 */
export function digestLockKey(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`"${sha256}" is not a sha256 in hex`);
  return BigInt.asIntN(64, BigInt(`0x${sha256.slice(0, 16)}`)).toString();
}

/** Pings a transaction so the server does not end it as idle; remembers the first failure. */
class KeepAlive {
  failure: unknown = null;
  private ping: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(trx: Transaction<Database>, everyMs: number) {
    this.timer = setInterval(() => {
      this.ping = this.ping.then(() =>
        sql`select 1`.execute(trx).then(
          () => undefined,
          (error: unknown) => {
            this.failure ??= error;
          },
        ),
      );
    }, everyMs);
  }

  /** Stops pinging; resolves once no ping is in flight, so the transaction's commit follows it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ping;
  }
}

/** At most `count` callers inside at once; the others wait their turn in order. */
class Slots {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}
