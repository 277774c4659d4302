import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { diskFullOf, type StoreError } from './errors.ts';

/**
 * The dialect with every statement's "disk full" failure (see `diskFullOf`) thrown as the store
 * error `disk-full`, a commit's included, so no verb has to recognise the databases' codes;
 * `onDiskFull` hears of each one.
 */
export function withDiskFullErrors(dialect: Dialect, onDiskFull: (error: StoreError) => void): Dialect {
  const translate = (error: unknown): unknown => {
    const full = diskFullOf(error);
    if (full === null) return error;
    onDiskFull(full);
    return full;
  };
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new DiskFullDriver(dialect.createDriver(), translate),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class DiskFullConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly translate: (error: unknown) => unknown,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      // SQLite's driver throws synchronously: awaited inside the try, both kinds are caught.
      return await this.inner.executeQuery<R>(compiledQuery);
    } catch (error) {
      throw this.translate(error);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (error) {
      throw this.translate(error);
    }
  }
}

/**
 * Hands out connections that translate their errors. The transaction statements (begin, commit,
 * rollback) go through them too; a driver's own bookkeeping (releasing a pooled client) gets
 * its own connection back. No savepoints: the store uses none, and Kysely says so if one is asked for.
 */
class DiskFullDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly translate: (error: unknown) => unknown,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new DiskFullConnection(await this.inner.acquireConnection(), this.translate);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as DiskFullConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
