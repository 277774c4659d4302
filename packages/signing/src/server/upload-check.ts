import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '@switchyard/protocol';
import { type FileFormatName, isFileFormat } from '../formats/format-names.ts';
import type { SigningKey } from '../keys/signing-key.ts';
import type { SigningService } from '../signing-service.ts';
import type { SigningClaims, TokenSecret } from '../token/signing-token.ts';
import { authorize } from './authorize.ts';

export const SIGN_PATH = /^\/api\/v1\/sign\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/;

export interface AdmittedUpload {
  format: FileFormatName;
  key: SigningKey;
  sha256: string;
  length: number;
  claims: SigningClaims;
}

/**
 * Everything about an upload that the headers decide, in the order a refusal is cheapest: the
 * route, the token and its formats, the key, then the declared length. Run before 100 Continue
 * and again on the normal path (fetch and small curl uploads send no Expect).
 */
export function admitUpload(
  headers: IncomingHttpHeaders,
  params: { format: string; keyId: string; sha256: string },
  service: SigningService,
  secrets: readonly TokenSecret[],
  maxUploadBytes: number,
): AdmittedUpload {
  if (!isFileFormat(params.format)) {
    throw new ApiError('not-found', `no file format "${params.format}" (mar, mar-contents, gpg, authenticode)`);
  }
  if (!/^[0-9a-f]{64}$/.test(params.sha256)) {
    throw new ApiError('invalid-request', 'the input is named by its lowercase hex sha256');
  }
  const claims = authorize(headers, secrets, params.format);
  const key = service.keyFor(params.format, params.keyId);
  const declared = headers['content-length'];
  if (declared === undefined)
    throw new ApiError('length-required', 'send Content-Length: uploads are refused or accepted by size');
  const length = Number(declared);
  if (length > maxUploadBytes) {
    throw new ApiError('payload-too-large', `${length} bytes is over this signer's limit of ${maxUploadBytes}`, {
      limit: maxUploadBytes,
    });
  }
  return { format: params.format, key, sha256: params.sha256, length, claims };
}
