import Type from 'typebox';

/** What the signing service makes from a file a job sends it (see docs/guide/signing.md). */
export const SIGNING_FILE_FORMATS = ['mar', 'mar-contents', 'gpg', 'authenticode'] as const;
export type SigningFileFormat = (typeof SIGNING_FILE_FORMATS)[number];

const SignerKeyId = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: "the signer's key id (GET <signer>/api/v1/keys lists them)",
});

/** A builder's `sign:` entry: files the worker has signed after the steps succeed, before uploads. */
export const SignConfig = Type.Object(
  {
    files: Type.String({
      minLength: 1,
      pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$',
      description: 'file or glob, relative to the directory the steps run in',
    }),
    format: Type.Enum<[...typeof SIGNING_FILE_FORMATS]>([...SIGNING_FILE_FORMATS], {
      description: 'what the signer makes of each file (see docs/guide/signing.md)',
    }),
    key: SignerKeyId,
    to: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$',
        description:
          'directory (relative to where the steps run) for the signed files; default: they replace the originals (gpg: <file>.asc beside it)',
      }),
    ),
    optional: Type.Optional(Type.Boolean({ description: 'true: no matching file is not an error' })),
  },
  { additionalProperties: false },
);

/** A `sign:` entry as the worker receives it. */
export const SignSpec = Type.Object({
  files: Type.String(),
  format: Type.Enum<[...typeof SIGNING_FILE_FORMATS]>([...SIGNING_FILE_FORMATS]),
  key: Type.String(),
  to: Type.Optional(Type.String()),
  optional: Type.Boolean(),
});

/** The farm's `signing:` section: where the signer is, and the secrets shared with it. */
export const SigningSettings = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^/@]+(/.*)?$',
      description: 'the signing service, e.g. http://signer:7430',
    }),
    secret: Type.Object(
      {
        id: Type.String({
          pattern: '^[A-Za-z0-9._-]{1,64}$',
          description: "the secret's id, as the signer's tokens.secrets names it",
        }),
        env: Type.Optional(
          Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the secret' }),
        ),
        file: Type.Optional(
          Type.String({ minLength: 1, description: 'file holding the secret, relative to this one' }),
        ),
      },
      {
        additionalProperties: false,
        description:
          'the secret shared with the signer (at least 32 bytes, e.g. openssl rand -hex 32) that signs job tokens; to rotate, add the new one to the signer first',
      },
    ),
  },
  {
    additionalProperties: false,
    description: 'the signing service jobs with `sign:` entries use, and the secret shared with it',
  },
);

/** What a running attempt is given to reach the signer: also in its steps' environment. */
export const AttemptSigning = Type.Object({
  url: Type.String({ description: 'the signer, also in $SWITCHYARD_SIGNER' }),
  token: Type.String({
    description:
      'a signing token bound to this job, attempt and the formats of its builder’s sign: entries; also in $SWITCHYARD_SIGNING_TOKEN',
  }),
});

/** The worker's own step that has a job's `sign:` files signed, after the build steps and before uploads. */
export const SIGN_STEP = 'sign-files';

/** What a job's signing step did, as the worker reports it with the attempt's end and `signing.finished` says. */
export const SigningSummary = Type.Object({
  files: Type.Integer({ minimum: 0, description: 'files signed' }),
  formats: Type.Array(Type.String(), { description: 'the formats used' }),
  cacheHits: Type.Integer({
    minimum: 0,
    description:
      "files the signer answered from its cache (mar-contents: whole MARs; its entries' hits are in the signer's metrics)",
  }),
  notUploaded: Type.Integer({
    minimum: 0,
    description: 'files whose bytes never travelled: the signer knew their digest',
  }),
  seconds: Type.Number({ minimum: 0 }),
});

export type SignConfig = Type.Static<typeof SignConfig>;
export type SigningSummary = Type.Static<typeof SigningSummary>;
export type SignSpec = Type.Static<typeof SignSpec>;
export type SigningSettings = Type.Static<typeof SigningSettings>;
export type AttemptSigning = Type.Static<typeof AttemptSigning>;
