import { describe, expect, it } from 'vitest';
import { copyPlan, parseS3Url, S3KeyLayout } from './s3-location.ts';

describe('parseS3Url', () => {
  it('reads a bucket and a prefix, normalised to end in one slash', () => {
    expect(parseS3Url('s3://farm-blobs')).toEqual({ bucket: 'farm-blobs', prefix: '' });
    expect(parseS3Url('s3://farm-blobs/')).toEqual({ bucket: 'farm-blobs', prefix: '' });
    expect(parseS3Url('s3://farm-blobs/switchyard')).toEqual({ bucket: 'farm-blobs', prefix: 'switchyard/' });
    expect(parseS3Url('s3://farm.blobs/a/b/')).toEqual({ bucket: 'farm.blobs', prefix: 'a/b/' });
  });

  it('names the problem with anything else', () => {
    expect(parseS3Url('https://farm-blobs')).toEqual({ problem: expect.stringContaining('expected s3://bucket') });
    expect(parseS3Url('s3://Farm_Blobs/x')).toEqual({ problem: expect.stringContaining('not an S3 bucket name') });
    expect(parseS3Url('s3://ab')).toEqual({ problem: expect.stringContaining('not an S3 bucket name') });
    expect(parseS3Url('s3://farm-blobs/a//b')).toEqual({ problem: expect.stringContaining('empty, "." or ".."') });
    expect(parseS3Url('s3://farm-blobs/../b')).toEqual({ problem: expect.stringContaining('empty, "." or ".."') });
  });
});

describe('S3KeyLayout', () => {
  const digest = 'ab'.repeat(32);

  it('keeps blobs under sha256/ and uploads in progress under tmp/, both under the prefix', () => {
    const layout = new S3KeyLayout('switchyard/');
    expect(layout.blobKey(digest)).toBe(`switchyard/sha256/${digest}`);
    expect(layout.tempKey(1796249495915, 'u-1')).toBe('switchyard/tmp/1796249495915-u-1');
    expect(new S3KeyLayout('').blobKey(digest)).toBe(`sha256/${digest}`);
  });

  it('reads back when an upload to a temporary key started, and nothing from other keys', () => {
    const layout = new S3KeyLayout('p/');
    expect(layout.tempKeyStartedAt(layout.tempKey(1796249495915, 'u-1'))).toBe(1796249495915);
    expect(layout.tempKeyStartedAt('p/tmp/left-by-hand')).toBeNull();
    expect(layout.tempKeyStartedAt('q/tmp/1796249495915-u-1')).toBeNull();
  });

  it('reads the digest back from a listed key, and nothing from other keys', () => {
    const layout = new S3KeyLayout('p/');
    expect(layout.digestOf(`p/sha256/${digest}`)).toBe(digest);
    expect(layout.digestOf(`p/tmp/${digest}`)).toBeNull();
    expect(layout.digestOf(`sha256/${digest}`)).toBeNull();
    expect(layout.digestOf('p/sha256/ABC')).toBeNull();
  });
});

describe('copyPlan', () => {
  it('copies in one request up to the limit, else in spans that cover every byte once', () => {
    expect(copyPlan(10, 10, 4)).toBe('single');
    expect(copyPlan(11, 10, 4)).toEqual([
      [0, 3],
      [4, 7],
      [8, 10],
    ]);
    expect(copyPlan(12, 10, 4)).toEqual([
      [0, 3],
      [4, 7],
      [8, 11],
    ]);
  });
});
