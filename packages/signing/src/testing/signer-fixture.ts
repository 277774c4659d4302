import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { SignerClient } from '../client/signer-client.ts';
import { loadSignerConfig, type SignerConfig } from '../config/load-signer-config.ts';
import { type RunningSigner, startSigner } from '../signer.ts';
import { mintSigningToken, type TokenSecret } from '../token/signing-token.ts';
import type { TestKeys } from './test-keys.ts';

export const TEST_KEY_IDS = {
  mar: 'release-mar',
  oldMar: 'old-mar',
  authenticode: 'release-authenticode',
  gpg: 'release-gpg',
} as const;

export interface TestSignerOptions {
  dir: string;
  keys: TestKeys;
  maxUploadSize?: string;
  cacheMaxSize?: string;
  timestampUrl?: string;
  workers?: number;
}

export interface TestSigner {
  url: string;
  config: SignerConfig;
  configFile: string;
  /** The environment the config reads its secret from. */
  env: Record<string, string>;
  secret: TokenSecret;
  signer: RunningSigner;
  token(formats: string[], options?: { ttlSeconds?: number; now?: number; job?: number }): string;
  client(formats: string[]): SignerClient;
  close(): Promise<void>;
}

/** Writes a signer config for `keys`, as an operator would, and starts a signer on a free port. */
export async function writeTestSignerConfig(
  options: TestSignerOptions,
): Promise<{ file: string; env: Record<string, string> }> {
  const file = join(options.dir, 'signer.yaml');
  const env = { SWITCHYARD_TEST_SIGNING_SECRET: randomBytes(32).toString('hex') };
  const { keys } = options;
  await writeFile(
    file,
    `# A signer for tests: every format, a 4096-bit MAR key and an old 2048-bit one.
cache:
  dir: ${join(options.dir, 'cache')}
  max_size: ${options.cacheMaxSize ?? '1GiB'}
${options.workers ? `workers: ${options.workers}\n` : ''}tokens:
  secrets:
    - id: test-2026
      env: SWITCHYARD_TEST_SIGNING_SECRET
limits:
  max_upload_size: ${options.maxUploadSize ?? '64MiB'}
keys:
  - id: ${TEST_KEY_IDS.mar}
    private_key: ${keys.marKey}
    formats: [mar, mar-contents, hash]
    contents_key: ${TEST_KEY_IDS.authenticode}
  - id: ${TEST_KEY_IDS.oldMar}
    private_key: ${keys.oldMarKey}
    formats: [mar]
  - id: ${TEST_KEY_IDS.authenticode}
    private_key: ${keys.codeSigningKey}
    certificates: ${keys.codeSigningChain}
    formats: [authenticode]
${options.timestampUrl ? `    timestamp_url: ${options.timestampUrl}\n` : ''}  - id: ${TEST_KEY_IDS.gpg}
    openpgp_key: ${keys.openPgpKey}
    formats: [gpg]
`,
  );
  return { file, env };
}

export async function startTestSigner(options: TestSignerOptions): Promise<TestSigner> {
  const { file, env } = await writeTestSignerConfig(options);
  const config = await loadSignerConfig(file, env);
  const signer = await startSigner({
    config,
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
  });
  const secret = config.secrets[0] as TokenSecret;
  const token: TestSigner['token'] = (formats, tokenOptions = {}) =>
    mintSigningToken({
      secret,
      job: tokenOptions.job ?? 1,
      attempt: 1,
      formats,
      ttlSeconds: tokenOptions.ttlSeconds ?? 600,
      now: tokenOptions.now,
    });
  return {
    url: signer.url,
    config,
    configFile: file,
    env,
    secret,
    signer,
    token,
    client: (formats) => new SignerClient(signer.url, token(formats)),
    close: () => signer.close(),
  };
}
