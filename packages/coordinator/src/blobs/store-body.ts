import type { Readable } from 'node:stream';
import type { BlobStore } from './port.ts';

/**
 * `BlobStore.put` for any store: the body received with no size limit, then committed. The body
 * is the coordinator's own (a log read from the database as it is compacted), so when it fails,
 * its error is the answer rather than the store's report of a body cut off.
 */
export async function storeBody(
  store: Pick<BlobStore, 'receive' | 'commit'>,
  body: Readable,
): Promise<{ sha256: string; size: number }> {
  let failure: unknown = null;
  body.once('error', (error) => {
    failure = error;
  });
  const received = await store
    .receive(body, Number.POSITIVE_INFINITY, () => {})
    .catch((error: unknown) => {
      throw failure ?? error;
    });
  await store.commit(received);
  return { sha256: received.sha256, size: received.size };
}
