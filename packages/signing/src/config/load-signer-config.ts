/**
 * @module
 * The signer's config file: read, checked against its schema, then for meaning (every key opens,
 * suits the formats it is allowed for, and refers to keys that exist), then compiled. Problems
 * name the file and the JSON path, as the coordinator's farm config does. Secrets and
 * passphrases come from the environment or files, never from the config itself.
 */
import { constants, createHash, type KeyObject, publicDecrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '@switchyard/coordinator/config/config-error';
import { schemaProblems } from '@switchyard/coordinator/config/schema-problems';
import { parseYamlMapping, readConfigText } from '@switchyard/coordinator/config/yaml-file';
import { parseSize } from '@switchyard/proxy/size';
import { Compile } from 'typebox/compile';
import type { FormatName } from '../formats/format-names.ts';
import { digestInfo } from '../keys/digest-info.ts';
import { openOpenPgpKey, openPemKey, pemPublicKey } from '../keys/open-key.ts';
import { pkcs11SignDigestInfo, readPkcs11PublicKey } from '../keys/pkcs11-key.ts';
import type { KeyMaterial, SigningKey } from '../keys/signing-key.ts';
import { algorithmMismatch, defaultMarAlgorithm, MAR_ALGORITHMS } from '../mar/mar-algorithms.ts';
import type { TokenSecret } from '../token/signing-token.ts';
import { type KeyConfig, SignerConfigFile } from './signer-config-schema.ts';

const validator = Compile(SignerConfigFile);
/** Firefox's own limit on a MAR; other formats rarely come larger. */
const DEFAULT_MAX_UPLOAD = 500 * 1024 * 1024;
const MIN_SECRET_BYTES = 32;

export interface SignerConfig {
  listen: { host: string; port: number };
  workers: number;
  cacheDir: string;
  cacheMaxBytes: number;
  maxUploadBytes: number;
  secrets: TokenSecret[];
  keys: Map<string, SigningKey>;
  /** Who may profile the signer (`admin:`); null: nobody. */
  admin: { tokenSha256: Buffer; heapSnapshots: boolean } | null;
}

export async function loadSignerConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<SignerConfig> {
  const value = parseYamlMapping(file, await readConfigText(file), '`cache:`, `tokens:` and `keys:`');
  if (!validator.Check(value))
    throw new ConfigError(file, schemaProblems(validator, value, 'docs/guide/signing.md#the-config-file'));
  const problems: ConfigProblem[] = [];
  const base = dirname(resolve(file));
  const secrets = readSecrets(value, env, base, problems);
  const admin = readAdmin(value, env, base, problems);
  const sizes = {
    cacheMaxBytes: readSize(value.cache.max_size, 'cache.max_size', problems) ?? 0,
    maxUploadBytes:
      readSize(value.limits?.max_upload_size ?? DEFAULT_MAX_UPLOAD, 'limits.max_upload_size', problems) ?? 0,
  };
  const listen = readListen(value.listen ?? '127.0.0.1:7440', problems);
  const keys = new Map<string, SigningKey>();
  const ids = new Set<string>();
  for (const [i, key] of value.keys.entries()) {
    const path = `keys[${i}]`;
    if (ids.has(key.id)) {
      problems.push({ path: `${path}.id`, message: `duplicate key "${key.id}"` });
      continue;
    }
    ids.add(key.id);
    const opened = await openKey(key, path, base, env, problems);
    if (opened) keys.set(key.id, opened);
  }
  for (const [i, key] of value.keys.entries()) problems.push(...contentsKeyProblems(key, `keys[${i}]`, keys));
  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    listen,
    workers: value.workers ?? Math.max(1, cpus().length),
    cacheDir: resolve(base, value.cache.dir),
    ...sizes,
    secrets,
    keys,
    admin,
  };
}

function readAdmin(
  value: SignerConfigFile,
  env: NodeJS.ProcessEnv,
  base: string,
  problems: ConfigProblem[],
): SignerConfig['admin'] {
  const admin = value.admin;
  if (admin === undefined) return null;
  if ((admin.token_env === undefined) === (admin.token_file === undefined)) {
    problems.push({ path: 'admin', message: 'expected exactly one of `token_env` or `token_file`' });
    return null;
  }
  let token: string | undefined;
  if (admin.token_env !== undefined) {
    token = env[admin.token_env]?.trim();
    if (!token) {
      problems.push({
        path: 'admin.token_env',
        message: `environment variable ${admin.token_env} is not set or empty`,
      });
    }
  } else {
    try {
      token = readFileSync(resolve(base, admin.token_file as string), 'utf8').trim();
      if (!token) problems.push({ path: 'admin.token_file', message: 'the file is empty' });
    } catch (error) {
      problems.push({ path: 'admin.token_file', message: `cannot read it (${(error as NodeJS.ErrnoException).code})` });
    }
  }
  if (!token) return null;
  return { tokenSha256: createHash('sha256').update(token).digest(), heapSnapshots: admin.heap_snapshots === true };
}

function readSecrets(value: SignerConfigFile, env: NodeJS.ProcessEnv, base: string, problems: ConfigProblem[]) {
  const secrets: TokenSecret[] = [];
  value.tokens.secrets.forEach((secret, i) => {
    const path = `tokens.secrets[${i}]`;
    if (secrets.some((known) => known.id === secret.id)) {
      problems.push({ path: `${path}.id`, message: `duplicate secret "${secret.id}"` });
      return;
    }
    if ((secret.env === undefined) === (secret.file === undefined)) {
      problems.push({ path, message: 'expected exactly one of `env` or `file`' });
      return;
    }
    let text: string | undefined;
    if (secret.env !== undefined) {
      text = env[secret.env];
      if (!text)
        problems.push({ path: `${path}.env`, message: `environment variable ${secret.env} is not set or empty` });
    } else {
      try {
        text = readFileSync(resolve(base, secret.file as string), 'utf8').trim();
      } catch (error) {
        problems.push({ path: `${path}.file`, message: `cannot read it (${(error as NodeJS.ErrnoException).code})` });
      }
    }
    if (text === undefined || text === '') return;
    const key = Buffer.from(text, 'utf8');
    if (key.length < MIN_SECRET_BYTES) {
      const where = secret.env !== undefined ? `${path}.env` : `${path}.file`;
      problems.push({
        path: where,
        message: `the secret must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32)`,
      });
      return;
    }
    secrets.push({ id: secret.id, key });
  });
  return secrets;
}

function readSize(value: number | string, path: string, problems: ConfigProblem[]): number | undefined {
  if (typeof value === 'number') return value;
  try {
    return parseSize(value);
  } catch (error) {
    problems.push({ path, message: (error as Error).message });
    return undefined;
  }
}

function readListen(value: string, problems: ConfigProblem[]): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    problems.push({
      path: 'listen',
      message: `expected a port or host:port, e.g. 7440 or 0.0.0.0:7440, got "${value}"`,
    });
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

/** Checks what the key's formats need, opens its file once (proving a passphrase now, not at the first job), and describes it. */
async function openKey(
  key: KeyConfig,
  path: string,
  base: string,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
): Promise<SigningKey | null> {
  const formats = new Set<FormatName>(key.formats);
  const count = problems.length;
  const needs = (setting: keyof KeyConfig, format: FormatName) => {
    if (formats.has(format) && key[setting] === undefined) {
      problems.push({ path, message: `\`${format}\` needs \`${setting}\`` });
    }
  };
  const onlyWith = (setting: keyof KeyConfig, format: FormatName) => {
    if (!formats.has(format) && key[setting] !== undefined) {
      problems.push({ path: `${path}.${setting}`, message: `only applies to keys allowed for \`${format}\`` });
    }
  };
  const sources = [key.private_key, key.openpgp_key, key.pkcs11].filter((source) => source !== undefined);
  if (sources.length !== 1) {
    problems.push({
      path,
      message: 'expected exactly one of `private_key` (PEM), `openpgp_key` (armored OpenPGP) or `pkcs11` (a module)',
    });
    return null;
  }
  if (key.pkcs11) return openPkcs11Key(key, key.pkcs11, path, env, problems);
  const pgp = key.openpgp_key !== undefined;
  for (const format of formats) {
    if ((format === 'gpg') !== pgp) {
      problems.push({
        path: `${path}.formats`,
        message: pgp ? `an OpenPGP key signs only \`gpg\`, not \`${format}\`` : '`gpg` needs an `openpgp_key`',
      });
    }
  }
  needs('certificates', 'authenticode');
  needs('contents_key', 'mar-contents');
  onlyWith('certificates', 'authenticode');
  onlyWith('timestamp_url', 'authenticode');
  onlyWith('contents_key', 'mar-contents');
  if (key.mar_algorithm !== undefined && !formats.has('mar') && !formats.has('mar-contents')) {
    problems.push({
      path: `${path}.mar_algorithm`,
      message: 'only applies to keys allowed for `mar` or `mar-contents`',
    });
  }
  if (key.timestamp_url !== undefined && !/^https?:\/\//.test(key.timestamp_url)) {
    problems.push({ path: `${path}.timestamp_url`, message: `expected an http(s) URL, got "${key.timestamp_url}"` });
  }
  let passphrase: string | undefined;
  if (key.passphrase_env !== undefined) {
    passphrase = env[key.passphrase_env];
    if (passphrase === undefined) {
      problems.push({
        path: `${path}.passphrase_env`,
        message: `environment variable ${key.passphrase_env} is not set`,
      });
    }
  }
  if (problems.length > count) return null;
  const material: KeyMaterial = {
    kind: pgp ? 'openpgp' : 'pem',
    path: resolve(base, (key.private_key ?? key.openpgp_key) as string),
    passphrase,
  };
  const filePath = `${path}.${pgp ? 'openpgp_key' : 'private_key'}`;
  const described: SigningKey = { id: key.id, formats, material, publicKey: '', fingerprint: '' };
  try {
    if (pgp) {
      const opened = await openOpenPgpKey(material);
      described.publicKey = opened.toPublic().armor();
      described.fingerprint = opened.getFingerprint();
    } else {
      const opened = openPemKey(material);
      const publicKey = pemPublicKey(opened);
      described.publicKey = publicKey.pem;
      described.fingerprint = publicKey.fingerprint;
      if (formats.has('mar') || formats.has('mar-contents')) {
        const algorithm = key.mar_algorithm ? MAR_ALGORITHMS[key.mar_algorithm] : defaultMarAlgorithm(opened);
        const mismatch = algorithm
          ? algorithmMismatch(algorithm, opened)
          : 'MAR signatures need an RSA, P-256 or P-384 key';
        if (mismatch)
          problems.push({ path: key.mar_algorithm ? `${path}.mar_algorithm` : filePath, message: mismatch });
        described.marAlgorithm = algorithm?.id;
      }
      if (formats.has('hash') && opened.asymmetricKeyType !== 'rsa') {
        problems.push({
          path: filePath,
          message: '`hash` needs an RSA key (it signs a digest computed elsewhere, PKCS#1 v1.5)',
        });
      }
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    problems.push({ path: filePath, message: `cannot open the key (${reason})` });
    return null;
  }
  if (key.certificates !== undefined) {
    described.certificates = resolve(base, key.certificates);
    try {
      if (!readFileSync(described.certificates, 'utf8').includes('-----BEGIN CERTIFICATE-----')) {
        problems.push({
          path: `${path}.certificates`,
          message: 'expected PEM certificates (-----BEGIN CERTIFICATE-----)',
        });
      }
    } catch (error) {
      problems.push({
        path: `${path}.certificates`,
        message: `cannot read it (${(error as NodeJS.ErrnoException).code})`,
      });
    }
  }
  described.timestampUrl = key.timestamp_url;
  described.contentsKey = key.contents_key;
  return described;
}

function contentsKeyProblems(key: KeyConfig, path: string, keys: Map<string, SigningKey>): ConfigProblem[] {
  if (key.contents_key === undefined) return [];
  const target = keys.get(key.contents_key);
  if (!target)
    return [{ path: `${path}.contents_key`, message: `expected the id of a key, got "${key.contents_key}"` }];
  if (!target.formats.has('authenticode')) {
    return [{ path: `${path}.contents_key`, message: `key "${key.contents_key}" is not allowed for \`authenticode\`` }];
  }
  return [];
}

/**
 * A key in a PKCS#11 module: its public half is read from the token, and a test signature made
 * with it at startup proves the module, the token, the label and the PIN before any job waits
 * on them (Mozilla's signing servers test-signed each format at startup for the same reason).
 */
function openPkcs11Key(
  key: KeyConfig,
  pkcs11: NonNullable<KeyConfig['pkcs11']>,
  path: string,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
): SigningKey | null {
  const formats = new Set<FormatName>(key.formats);
  const count = problems.length;
  for (const format of formats) {
    if (format === 'gpg' || format === 'authenticode') {
      problems.push({
        path: `${path}.formats`,
        message: `a PKCS#11 key signs mar, mar-contents and hash, not \`${format}\``,
      });
    }
  }
  if (key.passphrase_env !== undefined) {
    problems.push({ path: `${path}.passphrase_env`, message: 'a PKCS#11 key takes its PIN from `pkcs11.pin_env`' });
  }
  const pin = pkcs11.pin_env === undefined ? undefined : env[pkcs11.pin_env];
  if (pkcs11.pin_env !== undefined && pin === undefined) {
    problems.push({ path: `${path}.pkcs11.pin_env`, message: `environment variable ${pkcs11.pin_env} is not set` });
  }
  if (formats.has('mar-contents') && key.contents_key === undefined) {
    problems.push({ path, message: '`mar-contents` needs `contents_key`' });
  }
  if (problems.length > count) return null;
  const material: KeyMaterial = {
    kind: 'pkcs11',
    path: pkcs11.module,
    passphrase: pin,
    pkcs11: { module: pkcs11.module, token: pkcs11.token, label: pkcs11.key },
  };
  let publicKey: KeyObject;
  try {
    publicKey = readPkcs11PublicKey(material);
    if (publicKey.asymmetricKeyType !== 'rsa') throw new Error(`the key is ${publicKey.asymmetricKeyType}, not RSA`);
    const probe = randomBytes(32);
    const signature = pkcs11SignDigestInfo(material, digestInfo('sha256', probe));
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (!recovered.equals(digestInfo('sha256', probe))) {
      throw new Error("the token's signature does not match its public key");
    }
  } catch (error) {
    problems.push({ path: `${path}.pkcs11`, message: `cannot sign with the key (${(error as Error).message})` });
    return null;
  }
  const described = pemPublicKey(publicKey);
  let marAlgorithm: number | undefined;
  if (formats.has('mar') || formats.has('mar-contents')) {
    const algorithm = MAR_ALGORITHMS[key.mar_algorithm ?? 0] ?? defaultMarAlgorithm(publicKey);
    const mismatch = algorithm ? algorithmMismatch(algorithm, publicKey) : 'MAR signatures need an RSA key';
    if (mismatch)
      problems.push({ path: key.mar_algorithm ? `${path}.mar_algorithm` : `${path}.pkcs11`, message: mismatch });
    marAlgorithm = algorithm?.id;
  }
  return {
    id: key.id,
    formats,
    material,
    publicKey: described.pem,
    fingerprint: described.fingerprint,
    marAlgorithm,
    contentsKey: key.contents_key,
  };
}
