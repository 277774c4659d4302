/**
 * One critical section per digest at a time. Recording an artifact for a blob and collecting
 * that blob must not interleave: otherwise an upload could find a blob present, the collector
 * delete it, and the artifact end up naming bytes that are gone. The coordinator is the only
 * writer of its blob directory, so an in-process lock is enough.
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
