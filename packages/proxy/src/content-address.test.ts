import { expect, test } from 'vitest';
import { contentAddressOf } from './content-address.ts';

const sha256 = 'a'.repeat(64);
const sha512 = 'B'.repeat(128);

test('sha256 and sha512 path segments make a URL content-addressed', () => {
  expect(contentAddressOf(`/api/v1/blobs/sha256/${sha256}`)).toEqual({ algorithm: 'sha256', digest: sha256 });
  expect(contentAddressOf(`/sha512/${sha512}?x=1`)).toEqual({ algorithm: 'sha512', digest: sha512.toLowerCase() });
  expect(contentAddressOf(`/sha256/${sha256}/file.tar.gz`)).toMatchObject({ algorithm: 'sha256' });
});

test('anything else is not', () => {
  expect(contentAddressOf('/builds/latest.tar.gz')).toBeUndefined();
  expect(contentAddressOf(`/sha256/${sha256.slice(1)}`)).toBeUndefined();
  expect(contentAddressOf(`/sha256/${sha256}0`)).toBeUndefined();
  expect(contentAddressOf(`/x?sha256/${sha256}`)).toBeUndefined();
});
