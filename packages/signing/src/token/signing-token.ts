/**
 * @module
 * The signing token: the `signer` audience of the job tokens the coordinator mints for a running
 * attempt (`@switchyard/protocol`'s `job-token.ts` has the format), bound to the formats its
 * builder may use. The signer checks it from the request's headers, before any body.
 */
import {
  type JobTokenClaims,
  JobTokenError,
  type MintJobTokenOptions,
  mintJobToken,
  type TokenSecret,
  verifyJobToken,
} from '@switchyard/protocol';

export type { TokenSecret };
export type SigningClaims = JobTokenClaims;
export { JobTokenError as SigningTokenError };

export function mintSigningToken(options: Omit<MintJobTokenOptions, 'audience'>): string {
  return mintJobToken({ ...options, audience: 'signer' });
}

/** The claims of a signing token signed by one of `secrets` and valid at `now`; throws SigningTokenError otherwise. */
export function verifySigningToken(token: string, secrets: readonly TokenSecret[], now = Date.now()): SigningClaims {
  return verifyJobToken(token, secrets, 'signer', now);
}
