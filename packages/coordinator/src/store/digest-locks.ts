/**
 * One critical section per digest at a time, within this process: the callers of one digest
 * queue behind each other in the order they came. On its own it guards an SQLite farm (one
 * process owns it); on PostgreSQL `DigestLockRecords` adds the database's lock across replicas.
 */
export class DigestLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(digest: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(digest) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(digest, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(digest) === tail) this.tails.delete(digest);
    }
  }
}
