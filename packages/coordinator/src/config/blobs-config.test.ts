import { describe, expect, it } from 'vitest';
import { blobsTarget } from './blobs-config.ts';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';

const base = `
repos: [{ name: demo, url: /tmp/demo }]
builders: []
`;

function problems(server: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig('farm.yml', `${base}server:\n${server}`, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('server.blobs', () => {
  it('accepts a bucket URL with an endpoint and credentials from named variables', () => {
    const server = `  blobs:
    url: s3://farm-blobs/switchyard
    endpoint: http://minio:9000
    access_key_id_env: BLOB_KEY
    secret_access_key_env: BLOB_SECRET
`;
    expect(problems(server, { BLOB_KEY: 'k', BLOB_SECRET: 's' })).toEqual([]);
  });

  it('names each problem by its path', () => {
    expect(problems('  blobs: { url: "s3://Bad_Bucket" }\n')).toEqual([
      expect.stringMatching(/^server\.blobs\.url: .*not an S3 bucket name/),
    ]);
    expect(problems('  blobs: { url: s3://farm-blobs }\n  blob_dir: /srv/blobs\n')).toEqual([
      expect.stringMatching(/^server\.blob_dir: blobs go to server\.blobs/),
    ]);
    expect(problems('  blobs: { url: s3://farm-blobs, access_key_id_env: BLOB_KEY }\n', { BLOB_KEY: 'k' })).toEqual([
      expect.stringMatching(/^server\.blobs\.access_key_id_env: expected both/),
    ]);
    expect(
      problems('  blobs: { url: s3://farm-blobs, access_key_id_env: BLOB_KEY, secret_access_key_env: BLOB_SECRET }\n', {
        BLOB_KEY: 'k',
      }),
    ).toEqual(['server.blobs.secret_access_key_env: environment variable BLOB_SECRET is not set or empty']);
    expect(problems('  blobs: { url: "http://farm-blobs" }\n').join('\n')).toContain('server.blobs.url');
  });
});

describe('blobsTarget', () => {
  it('is the blob directory without server.blobs or --blobs', () => {
    expect(blobsTarget(undefined, undefined, {})).toEqual({ kind: 'local', dir: 'blobs' });
    expect(blobsTarget({ blob_dir: '/srv/blobs' }, undefined, {})).toEqual({ kind: 'local', dir: '/srv/blobs' });
  });

  it('takes the endpoint, region and path style from the AWS variables when the config has none', () => {
    const target = blobsTarget(undefined, 's3://farm-blobs/p', {
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5055',
      AWS_REGION: 'eu-west-1',
    });
    expect(target).toEqual({
      kind: 's3',
      location: { bucket: 'farm-blobs', prefix: 'p/' },
      client: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:5055', forcePathStyle: true, credentials: null },
      redirectDownloads: false,
    });
    // Real AWS: virtual-hosted buckets, the SDK's own credential chain.
    expect(blobsTarget(undefined, 's3://farm-blobs', {})).toMatchObject({
      client: { region: 'us-east-1', endpoint: undefined, forcePathStyle: false, credentials: null },
    });
  });

  it('lets --blobs replace the config URL, keeping its endpoint and credentials', () => {
    const target = blobsTarget(
      {
        blobs: {
          url: 's3://old-bucket',
          endpoint: 'http://minio:9000',
          force_path_style: false,
          access_key_id_env: 'K',
          secret_access_key_env: 'S',
          redirect_downloads: true,
        },
      },
      's3://new-bucket/x',
      { K: 'key', S: 'secret', AWS_ENDPOINT_URL_S3: 'http://ignored' },
    );
    expect(target).toEqual({
      kind: 's3',
      location: { bucket: 'new-bucket', prefix: 'x/' },
      client: {
        region: 'us-east-1',
        endpoint: 'http://minio:9000',
        forcePathStyle: false,
        credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      },
      redirectDownloads: true,
    });
    expect(() => blobsTarget(undefined, '/srv/blobs', {})).toThrow('--blobs: expected s3://bucket');
  });
});
