import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '@switchyard/coordinator/config/config-error';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignerClient } from '../src/client/signer-client.ts';
import { loadSignerConfig } from '../src/config/load-signer-config.ts';
import { type RunningSigner, startSigner } from '../src/signer.ts';
import { buildMar } from '../src/testing/index.ts';
import { mintSigningToken, type TokenSecret } from '../src/token/signing-token.ts';
import { readMarPerSpec } from './helpers/mar-spec-reader.ts';
import { opensslVerifies, scratch, xzLikeFirefox } from './helpers/tools.ts';

const run = promisify(execFile);
/** Debian's softhsm2 package puts its module here. */
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '246810';

let dir: string;
let signer: RunningSigner;
let client: SignerClient;
let publicKey: string;
const env = { SIGNING_SECRET: 'y'.repeat(48), HSM_PIN: PIN };

/** A config whose only key lives in a SoftHSM token. */
async function writeConfig(pinEnv: string): Promise<string> {
  const file = join(dir, `signer-${pinEnv}.yaml`);
  await writeFile(
    file,
    `cache: { dir: ${join(dir, 'cache')}, max_size: 100MiB }
tokens:
  secrets: [{ id: s1, env: SIGNING_SECRET }]
keys:
  - id: hsm-mar
    pkcs11: { module: ${SOFTHSM}, token: release, key: mar-2026, pin_env: ${pinEnv} }
    formats: [mar, hash]
`,
  );
  return file;
}

beforeAll(async () => {
  dir = await scratch();
  await mkdir(join(dir, 'tokens'));
  await writeFile(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  // SoftHSM finds its token directory through this variable; the signer's threads and pkcs11-tool inherit it.
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  await run('softhsm2-util', ['--init-token', '--free', '--label', 'release', '--pin', PIN, '--so-pin', '13579']);
  await run('pkcs11-tool', [
    '--module',
    SOFTHSM,
    '--token-label',
    'release',
    '--login',
    '--pin',
    PIN,
    '--keypairgen',
    '--key-type',
    'rsa:4096',
    '--label',
    'mar-2026',
    '--id',
    '01',
  ]);
  const config = await loadSignerConfig(await writeConfig('HSM_PIN'), env);
  signer = await startSigner({ config, listen: { host: '127.0.0.1', port: 0 }, logger: pino({ level: 'silent' }) });
  const secret = config.secrets[0] as TokenSecret;
  client = new SignerClient(
    signer.url,
    mintSigningToken({ secret, job: 1, attempt: 1, formats: ['mar', 'hash'], ttlSeconds: 600 }),
  );
  const { keys } = (await (await fetch(`${signer.url}/api/v1/keys`)).json()) as { keys: { publicKey: string }[] };
  publicKey = join(dir, 'hsm-mar.pub.pem');
  await writeFile(publicKey, keys[0]?.publicKey ?? '');
}, 120_000);
afterAll(async () => {
  await signer?.close();
  delete process.env.SOFTHSM2_CONF;
  await rm(dir, { recursive: true, force: true });
});

describe('a key in a PKCS#11 module', () => {
  it('signs a MAR with algorithm 2 inside the module, verifiable with the public key the signer publishes', async () => {
    const input = buildMar({
      productInfo: { channel: 'release', version: '128.0' },
      entries: [{ name: 'updatev3.manifest', flags: 0o644, data: await xzLikeFirefox(Buffer.from('add "x"\n')) }],
    });
    const mar = readMarPerSpec((await client.signFile('mar', 'hsm-mar', input)).output);
    expect(mar.signatures.map((s) => [s.algorithm, s.signature.length])).toEqual([[2, 512]]);
    expect(await opensslVerifies(publicKey, 'sha384', mar.signedBytes, mar.signatures[0]?.signature as Buffer)).toBe(
      true,
    );
  });

  it('signs a digest', async () => {
    const bytes = Buffer.from('hashed elsewhere');
    const signature = await client.signHash('hsm-mar', 'sha256', createHash('sha256').update(bytes).digest());
    expect(await opensslVerifies(publicKey, 'sha256', bytes, signature)).toBe(true);
  });

  it('is proven at startup: a wrong PIN is a config error naming the key', async () => {
    const file = await writeConfig('WRONG_PIN');
    const refused = await loadSignerConfig(file, { ...env, WRONG_PIN: '000000' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([
      {
        path: 'keys[0].pkcs11',
        message: expect.stringMatching(
          /^cannot sign with the key \(pkcs11-tool failed for token "release", key "mar-2026"/,
        ),
      },
    ]);
  });
});
