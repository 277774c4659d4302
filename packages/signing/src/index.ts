export { loadSignerConfig, type SignerConfig } from './config/load-signer-config.ts';
export { FILE_FORMATS, FORMATS, type FormatName } from './formats/format-names.ts';
export { type RunningSigner, type SignerOptions, startSigner } from './signer.ts';
export { mintSigningToken, type SigningClaims, type TokenSecret, verifySigningToken } from './token/signing-token.ts';
