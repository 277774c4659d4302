import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';

const SECRET = 'a'.repeat(64);
const repos = 'repos: [{ name: demo, url: /srv/git/demo.git }]\n';
const signingBuilder = `builders:
  - name: release
    repo: demo
    pool: linux
    steps: [{ name: build, run: make }]
    sign: [{ files: "dist/*.mar", format: mar-contents, key: release-mar, to: signed }]
`;
const signing = 'signing: { url: "http://signer:7440/", secret: { id: k2026, env: SIGNING_SECRET } }\n';

const problemsOf = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig('farm.yml', text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
};

describe('the signing: section and builders that sign', () => {
  it('compiles the signer and its secret, and freezes a builder’s sign: entries', () => {
    const farm = parseConfig('farm.yml', repos + signing + signingBuilder, { SIGNING_SECRET: SECRET });
    expect(farm.signing).toEqual({ url: 'http://signer:7440', secret: { id: 'k2026', key: Buffer.from(SECRET) } });
    expect(farm.buildersByName.get('release')?.config.sign).toEqual([
      { files: 'dist/*.mar', format: 'mar-contents', key: 'release-mar', to: 'signed' },
    ]);
  });

  it('refuses sign: without a signer, a missing or short secret, and paths that leave the tree', () => {
    expect(problemsOf(repos + signingBuilder)).toEqual([
      { path: 'builders[0].sign', message: expect.stringContaining('add a top-level `signing:` section') },
    ]);
    expect(problemsOf(repos + signing + signingBuilder)).toEqual([
      { path: 'signing.secret.env', message: 'environment variable SIGNING_SECRET is not set or empty' },
    ]);
    expect(problemsOf(repos + signing + signingBuilder, { SIGNING_SECRET: 'short' })).toEqual([
      { path: 'signing.secret.env', message: expect.stringContaining('at least 32 bytes') },
    ]);
    const escaping = signingBuilder.replace('dist/*.mar', '../outside/*.mar');
    expect(problemsOf(repos + signing + escaping, { SIGNING_SECRET: SECRET })[0]?.path).toBe(
      'builders[0].sign[0].files',
    );
    const unknownFormat = signingBuilder.replace('mar-contents', 'zip');
    expect(problemsOf(repos + signing + unknownFormat, { SIGNING_SECRET: SECRET })[0]?.path).toBe(
      'builders[0].sign[0].format',
    );
  });
});
