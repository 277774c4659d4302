import Type, { type Static } from 'typebox';
import { FORMATS } from '../formats/format-names.ts';

const KEY_ID = { minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' };
const ENV_NAME = { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' };
/** Bytes, or a size such as 500MiB. */
function Size(options: { default?: string; description?: string } = {}) {
  return Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], {
    description: 'bytes, or a size such as 500MiB',
    ...options,
  });
}

export const KeyConfig = Type.Object(
  {
    id: Type.String({ ...KEY_ID, description: "what a builder's `sign:` entry names it by" }),
    formats: Type.Array(Type.Enum([...FORMATS]), { minItems: 1, description: 'what this key may sign' }),
    private_key: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM private key (RSA or EC), relative to this file' }),
    ),
    openpgp_key: Type.Optional(
      Type.String({ minLength: 1, description: 'armored OpenPGP secret key, for `gpg`, relative to this file' }),
    ),
    pkcs11: Type.Optional(
      Type.Object(
        {
          module: Type.String({
            minLength: 1,
            description: 'the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so',
          }),
          token: Type.String({ minLength: 1, description: 'the token label' }),
          key: Type.String({ minLength: 1, description: 'the key pair label on the token' }),
          pin_env: Type.Optional(
            Type.String({ ...ENV_NAME, description: "environment variable holding the token's user PIN" }),
          ),
        },
        {
          additionalProperties: false,
          description: 'an RSA key held by a PKCS#11 module, for mar, mar-contents and hash',
        },
      ),
    ),
    passphrase_env: Type.Optional(
      Type.String({
        ...ENV_NAME,
        description: 'environment variable holding the passphrase of private_key or openpgp_key',
      }),
    ),
    mar_algorithm: Type.Optional(
      Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)], {
        description:
          'MAR signature algorithm; by default 2 for RSA ≥ 4096 bits, 1 for smaller RSA, 3/4 for P-256/P-384',
      }),
    ),
    contents_key: Type.Optional(
      Type.String({ minLength: 1, description: 'mar-contents: the Authenticode key for the .exe/.dll entries' }),
    ),
    certificates: Type.Optional(
      Type.String({ minLength: 1, description: 'authenticode: PEM certificate chain, signer first' }),
    ),
    timestamp_url: Type.Optional(Type.String({ minLength: 1, description: 'authenticode: an RFC 3161 TSA' })),
  },
  { additionalProperties: false },
);
export type KeyConfig = Static<typeof KeyConfig>;

const SecretConfig = Type.Object(
  {
    id: Type.String({ ...KEY_ID, description: "the id a farm's `signing.secret.id` names it by" }),
    env: Type.Optional(Type.String({ ...ENV_NAME, description: 'environment variable holding the secret' })),
    file: Type.Optional(Type.String({ minLength: 1, description: 'file holding the secret, relative to this file' })),
  },
  { additionalProperties: false, description: 'exactly one of env or file' },
);

export const SignerConfigFile = Type.Object(
  {
    listen: Type.Optional(Type.String({ minLength: 1, default: '127.0.0.1:7440', description: '[host:]port' })),
    workers: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 256, description: 'signing threads; the cores by default' }),
    ),
    cache: Type.Object(
      {
        dir: Type.String({ minLength: 1, description: 'relative to this file' }),
        max_size: Size({ description: 'the bound on the bytes the cache keeps: bytes, or a size such as 20GiB' }),
      },
      {
        additionalProperties: false,
        description: 'signatures already made, by input digest: the same file is signed once',
      },
    ),
    tokens: Type.Object(
      { secrets: Type.Array(SecretConfig, { minItems: 1, description: 'all accepted; several while rotating' }) },
      { additionalProperties: false, description: 'the secrets signing tokens are checked with' },
    ),
    limits: Type.Optional(
      Type.Object(
        {
          max_upload_size: Type.Optional(
            Size({
              default: '500MiB',
              description: 'the largest file one request may send: bytes, or a size such as 500MiB',
            }),
          ),
        },
        { additionalProperties: false, description: 'what one request may send' },
      ),
    ),
    admin: Type.Optional(
      Type.Object(
        {
          token_env: Type.Optional(Type.String({ ...ENV_NAME, description: 'environment variable holding the token' })),
          token_file: Type.Optional(Type.String({ minLength: 1, description: 'relative to this file' })),
          heap_snapshots: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                'allow heap snapshots too; off by default, since a snapshot holds whatever the heap holds, secrets read at start among it',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'the token that may take CPU profiles (switchyard profile): exactly one of token_env or token_file',
        },
      ),
    ),
    keys: Type.Array(KeyConfig, { minItems: 1, description: 'the keys it signs with' }),
  },
  {
    additionalProperties: false,
    description: 'The signer config `switchyard signer --config` reads (YAML); relative paths are relative to it.',
  },
);
export type SignerConfigFile = Static<typeof SignerConfigFile>;
