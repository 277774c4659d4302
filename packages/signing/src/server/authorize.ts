import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '@switchyard/protocol';
import type { FormatName } from '../formats/format-names.ts';
import { type SigningClaims, SigningTokenError, type TokenSecret, verifySigningToken } from '../token/signing-token.ts';

/**
 * The claims of the request's bearer token, checked from the headers alone, and that they allow
 * `format` when one is asked for. Refusals say why without quoting the token.
 */
export function authorize(
  headers: IncomingHttpHeaders,
  secrets: readonly TokenSecret[],
  format: FormatName | null,
  now = Date.now(),
): SigningClaims {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  if (!match) {
    throw new ApiError(
      'unauthenticated',
      'send Authorization: Bearer <signing token> (the job has it in $SWITCHYARD_SIGNING_TOKEN)',
    );
  }
  let claims: SigningClaims;
  try {
    claims = verifySigningToken(match[1] as string, secrets, now);
  } catch (error) {
    if (error instanceof SigningTokenError)
      throw new ApiError('unauthenticated', error.message, { reason: error.reason });
    throw error;
  }
  if (format !== null && !claims.formats.includes(format)) {
    const allowed = claims.formats.length > 0 ? claims.formats.join(', ') : 'no format';
    throw new ApiError(
      'forbidden',
      `the token of job ${claims.job} attempt ${claims.attempt} allows ${allowed}, not ${format}`,
    );
  }
  return claims;
}
