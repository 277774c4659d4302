import { resolve } from 'node:path';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { BlobsTarget } from '../config/blobs-config.ts';
import { LocalBlobStore } from './local-blob-store.ts';
import type { S3BlobStore, S3BlobStoreOptions } from './s3-blob-store.ts';

/**
 * The blob store of a target, initialised: a directory (relative to the data directory) or a
 * bucket. The AWS SDK is loaded only for a bucket: a coordinator on local disk starts without it.
 */
export async function openBlobStore(
  target: BlobsTarget,
  dataDir: string,
  /** Part sizes, for tests that want multipart behaviour from small bodies. */
  tuning: Pick<S3BlobStoreOptions, 'partBytes' | 'maxSingleCopyBytes' | 'copyPartBytes'> = {},
): Promise<LocalBlobStore | S3BlobStore> {
  let store: LocalBlobStore | S3BlobStore;
  if (target.kind === 'local') {
    store = new LocalBlobStore(resolve(dataDir, target.dir));
  } else {
    const [{ S3Client }, { S3BlobStore }, { S3KeyLayout }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('./s3-blob-store.ts'),
      import('./s3-location.ts'),
    ]);
    store = new S3BlobStore({
      client: new S3Client(s3ClientConfig(target.client, 'WHEN_SUPPORTED')),
      presigner: new S3Client(s3ClientConfig(target.client, 'WHEN_REQUIRED')),
      location: target.location,
      layout: new S3KeyLayout(target.location.prefix),
      redirectDownloads: target.redirectDownloads,
      ...tuning,
    });
  }
  await store.init();
  return store;
}

/**
 * The S3 client's settings. `checksums` is the SDK's checksum rule: the default for requests
 * sent, and `WHEN_REQUIRED` for the client that presigns, because a presigned URL carrying the
 * default checksum (of an empty body) is refused by real S3.
 */
export function s3ClientConfig(
  client: Extract<BlobsTarget, { kind: 's3' }>['client'],
  checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED',
): S3ClientConfig {
  return {
    region: client.region,
    endpoint: client.endpoint,
    forcePathStyle: client.forcePathStyle,
    ...(client.credentials ? { credentials: client.credentials } : {}),
    requestChecksumCalculation: checksums,
    // Reads are checked by sha256 where it matters (clients verify what they fetch); the SDK's
    // check can't apply to a Range, and takes a multipart copy's checksum for the whole object's.
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
