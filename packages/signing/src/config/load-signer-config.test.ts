import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@switchyard/coordinator/config/config-error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKeys, type TestKeys, writeTestSignerConfig } from '../testing/index.ts';
import { loadSignerConfig } from './load-signer-config.ts';

let dir: string;
let keys: TestKeys;
const env = { SIGNING_SECRET: 'x'.repeat(40) };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signer-config-'));
  keys = await createTestKeys(join(dir, 'keys'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(yaml: string, environment: Record<string, string> = env) {
  const file = join(dir, 'signer.yaml');
  await writeFile(file, yaml);
  try {
    await loadSignerConfig(file, environment);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.startsWith(`${file}: invalid configuration`)).toBe(true);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

const base = `cache: { dir: cache, max_size: 1GiB }
tokens:
  secrets: [{ id: s1, env: SIGNING_SECRET }]
`;

describe('loadSignerConfig', () => {
  it('compiles the test config: keys with their formats, algorithms and public halves', async () => {
    const { file, env: testEnv } = await writeTestSignerConfig({ dir, keys });
    const config = await loadSignerConfig(file, testEnv);
    expect([...config.keys.keys()]).toEqual(['release-mar', 'old-mar', 'release-authenticode', 'release-gpg']);
    expect(config.keys.get('release-mar')?.marAlgorithm).toBe(2);
    expect(config.keys.get('old-mar')?.marAlgorithm).toBe(1);
    expect(config.keys.get('release-gpg')?.publicKey).toMatch(/BEGIN PGP PUBLIC KEY BLOCK/);
    expect(config.cacheMaxBytes).toBe(2 ** 30);
    expect(config.secrets[0]?.id).toBe('test-2026');
  });

  it('names the JSON path of schema problems', async () => {
    expect(
      await problemsOf(
        `${base}keys:\n  - { id: k, private_key: k.pem, formats: [mar, zip] }\n  - { id: j, pem: x, formats: [mar] }\n`,
      ),
    ).toEqual([
      { path: 'keys[0].formats[1]', message: expect.stringContaining('expected one of "mar", "mar-contents"') },
      { path: 'keys[1].pem', message: expect.stringContaining('unknown setting') },
    ]);
  });

  it('checks meaning: keys that open and suit their formats, secrets that are set and long enough', async () => {
    const problems = await problemsOf(
      `cache: { dir: cache, max_size: lots }
tokens:
  secrets: [{ id: s1, env: SIGNING_SECRET }, { id: s2, env: SHORT }, { id: s3, env: MISSING }]
keys:
  - { id: small, private_key: ${keys.oldMarKey}, formats: [mar], mar_algorithm: 2 }
  - { id: pgp, openpgp_key: ${keys.openPgpKey}, formats: [gpg, mar] }
  - { id: outer, private_key: ${keys.marKey}, formats: [mar-contents], contents_key: small }
  - { id: code, private_key: ${keys.codeSigningKey}, formats: [authenticode] }
  - { id: gone, private_key: nowhere.pem, formats: [mar] }
  - { id: gone, private_key: ${keys.marKey}, formats: [hash] }
`,
      { ...env, SHORT: 'short' },
    );
    expect(problems).toEqual([
      { path: 'tokens.secrets[1].env', message: expect.stringContaining('at least 32 bytes') },
      { path: 'tokens.secrets[2].env', message: 'environment variable MISSING is not set or empty' },
      { path: 'cache.max_size', message: expect.stringContaining('"lots" is not a size') },
      { path: 'keys[0].mar_algorithm', message: expect.stringContaining('at least 4096 bits') },
      { path: 'keys[1].formats', message: 'an OpenPGP key signs only `gpg`, not `mar`' },
      { path: 'keys[3]', message: '`authenticode` needs `certificates`' },
      { path: 'keys[4].private_key', message: 'cannot open the key (no such file)' },
      { path: 'keys[5].id', message: 'duplicate key "gone"' },
      { path: 'keys[2].contents_key', message: 'key "small" is not allowed for `authenticode`' },
    ]);
  });

  it('reads the admin token that may profile the signer, as a digest, with heap snapshots off unless allowed', async () => {
    const file = join(dir, 'admin.yaml');
    const key = `keys:\n  - { id: k, private_key: ${keys.marKey}, formats: [hash] }\n`;
    await writeFile(file, `${base}${key}`);
    expect((await loadSignerConfig(file, env)).admin).toBeNull();
    await writeFile(join(dir, 'admin-token'), 'the-token\n');
    await writeFile(file, `${base}${key}admin: { token_file: admin-token }\n`);
    const admin = (await loadSignerConfig(file, env)).admin;
    expect(admin?.heapSnapshots).toBe(false);
    expect(admin?.tokenSha256.toString('hex')).toBe(createHash('sha256').update('the-token').digest('hex'));
    await writeFile(file, `${base}${key}admin: { token_env: ADMIN, heap_snapshots: true }\n`);
    expect((await loadSignerConfig(file, { ...env, ADMIN: 'the-token' })).admin?.heapSnapshots).toBe(true);
  });

  it('names what is wrong with the admin token', async () => {
    const key = `keys:\n  - { id: k, private_key: ${keys.marKey}, formats: [hash] }\n`;
    expect(await problemsOf(`${base}${key}admin: { token_env: ADMIN, token_file: f }\n`)).toEqual([
      { path: 'admin', message: 'expected exactly one of `token_env` or `token_file`' },
    ]);
    expect(await problemsOf(`${base}${key}admin: { token_env: ADMIN }\n`)).toEqual([
      { path: 'admin.token_env', message: 'environment variable ADMIN is not set or empty' },
    ]);
    expect(await problemsOf(`${base}${key}admin: { token_file: nowhere }\n`)).toEqual([
      { path: 'admin.token_file', message: 'cannot read it (ENOENT)' },
    ]);
  });
});
