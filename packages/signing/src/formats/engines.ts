import { osslsigncodeVersion } from './osslsigncode.ts';

/** The versions of the code that makes signatures; each is part of the cache keys it affects. */
export interface EngineVersions {
  /** RSA/ECDSA for MARs and digests: Node's OpenSSL. */
  crypto: string;
  osslsigncode: string;
  openpgp: string;
}

export async function engineVersions(): Promise<EngineVersions> {
  const openpgp = await import('openpgp');
  return {
    crypto: `openssl-${process.versions.openssl}`,
    osslsigncode: await osslsigncodeVersion(),
    openpgp: openpgp.config.versionString,
  };
}
