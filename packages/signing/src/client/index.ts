export type { SignedOutput } from '../server/api-schemas.ts';
export { type SignedFile, SignerClient } from './signer-client.ts';
