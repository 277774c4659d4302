import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';
import { toConfigPath } from './schema-problems.ts';

const problemsOf = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig('farm.yml', text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^farm\.yml: invalid configuration/);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
};

const repos = 'repos: [{ name: demo, url: /srv/git/demo.git }]\n';
const step = '[{ name: s, run: "true" }]';

describe('parseConfig', () => {
  it('compiles a valid config with defaults', () => {
    const farm = parseConfig(
      'farm.yml',
      `${repos}builders:
  - { name: build, repo: demo, pool: linux, branches: ["main", "release/*"], steps: [{ name: compile, run: ./build.sh, env: { MODE: opt, JOBS: 4 }, timeout: 600 }] }
  - { name: test, repo: demo, pool: linux, after: build, checkout: false, steps: ${step} }
`,
    );
    expect(farm.builders.map((b) => b.name)).toEqual(['build', 'test']);
    const [build, test] = farm.builders;
    expect(build?.matchesBranch('main')).toBe(true);
    expect(build?.matchesBranch('release/1.0')).toBe(true);
    expect(build?.matchesBranch('try/x')).toBe(false);
    expect(test?.matchesBranch('anything/at/all')).toBe(true);
    expect(test?.after).toEqual(['build']);
    expect(test?.checkout).toBe(false);
    expect(farm.settings.leaseSeconds).toBe(30);
    expect(farm.settings.maxAttempts).toBe(3);
    expect(farm.tokens).toBeNull();
  });

  it('compiles branch priorities, builder offsets, coalescing and speed preferences', () => {
    const farm = parseConfig(
      'farm.yml',
      `${repos}branches:
  - { match: "release/*", priority: 0 }
  - { match: main, priority: 3 }
scheduling: { aging_minutes: 5, fit_band: 2 }
builders:
  - { name: build, repo: demo, pool: linux, priority: 1, steps: ${step} }
  - { name: talos, repo: demo, pool: linux, after: build, coalesce: latest, steps: ${step} }
  - { name: lint, repo: demo, pool: linux, after: build, coalesce: latest, coalesce_limit: 3, prefer: any, steps: ${step} }
`,
    );
    expect(['release/1.0', 'main', 'try/x'].map((b) => farm.branchPriority(b))).toEqual([0, 3, 4]);
    expect(farm.scheduling).toEqual({ agingMs: 300_000, fitBand: 2 });
    expect(farm.builders.map((b) => [b.priorityOffset, b.coalesceLimit, b.prefer])).toEqual([
      [1, null, 'fast'],
      [0, 8, 'slow'],
      [0, 3, 'any'],
    ]);
    const defaults = parseConfig(
      'farm.yml',
      `${repos}builders: [{ name: b, repo: demo, pool: linux, steps: ${step} }]\n`,
    );
    expect(defaults.scheduling).toEqual({ agingMs: 600_000, fitBand: 0.5 });
  });

  it('refuses a coalesce limit without coalescing and a branch rule that never applies', () => {
    const problems = problemsOf(`${repos}branches: [{ match: main, priority: 1 }, { match: main, priority: 2 }]
builders:
  - { name: b, repo: demo, pool: linux, coalesce_limit: 3, prefer: quick, steps: ${step} }
`);
    expect(problems).toEqual([{ path: 'builders[0].prefer', message: expect.stringContaining('fast') }]);
    const semantic = problemsOf(`${repos}branches: [{ match: main, priority: 1 }, { match: main, priority: 2 }]
builders:
  - { name: b, repo: demo, pool: linux, coalesce_limit: 3, steps: ${step} }
`);
    expect(semantic).toEqual([
      {
        path: 'builders[0].coalesce_limit',
        message: 'only applies with `coalesce: latest`; add that, or remove the limit',
      },
      { path: 'branches[1].match', message: '"main" is already matched by branches[0], so this entry never applies' },
    ]);
  });

  it('names the path and the expectation for an unknown `after`', () => {
    const problems = problemsOf(`${repos}builders:
  - { name: build, repo: demo, pool: linux, steps: ${step} }
  - { name: test, repo: demo, pool: linux, after: biuld, steps: ${step} }
`);
    expect(problems).toEqual([{ path: 'builders[1].after', message: 'expected the name of a builder, got "biuld"' }]);
  });

  it('refuses a misspelt setting', () => {
    expect(problemsOf(`${repos}builders: [{ name: b, repo: demo, pool: linux, stpes: 1, steps: ${step} }]\n`)).toEqual([
      {
        path: 'builders[0].stpes',
        message: 'unknown setting (check its spelling against docs/reference/configuration.md)',
      },
    ]);
  });

  it('refuses an unknown repo and a duplicate builder', () => {
    const problems = problemsOf(`${repos}builders:
  - { name: build, repo: demo, pool: linux, steps: ${step} }
  - { name: build, repo: nope, pool: linux, steps: ${step} }
`);
    expect(problems).toContainEqual({
      path: 'builders[1].name',
      message: expect.stringContaining('duplicate builder'),
    });
    expect(problems).toContainEqual({ path: 'builders[1].repo', message: expect.stringContaining('"nope"') });
  });

  it('reserves the name of the checkout step and refuses duplicate token names', () => {
    const problems = problemsOf(`${repos}builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: checkout, run: "true" }] }
auth:
  tokens:
    - { name: ci, sha256: ${'a'.repeat(64)}, scopes: [push] }
    - { name: ci, sha256: ${'b'.repeat(64)}, scopes: [worker] }
`);
    expect(problems).toEqual([
      {
        path: 'builders[0].steps[0].name',
        message: 'duplicate step "checkout" (the name of the checkout step the worker runs first)',
      },
      { path: 'auth.tokens[1].name', message: 'duplicate token "ci"' },
    ]);
    expect(() =>
      parseConfig(
        'farm.yml',
        `${repos}builders: [{ name: b, repo: demo, pool: p, checkout: false, steps: [{ name: checkout, run: x }] }]\n`,
      ),
    ).not.toThrow();
  });

  it('finds a dependency cycle', () => {
    const problems = problemsOf(`${repos}builders:
  - { name: a, repo: demo, pool: linux, after: c, steps: ${step} }
  - { name: b, repo: demo, pool: linux, after: a, steps: ${step} }
  - { name: c, repo: demo, pool: linux, after: [b], steps: ${step} }
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe('dependency cycle: a → c → b → a');
  });

  it('explains wrong types with the value found', () => {
    const problems = problemsOf(`${repos}builders:
  - { name: build, repo: demo, pool: linux, branches: main, steps: [{ name: s, run: x, timeout: -5 }] }
`);
    expect(problems).toContainEqual({ path: 'builders[0].branches', message: 'expected a list, got "main"' });
    expect(problems).toContainEqual({
      path: 'builders[0].steps[0].timeout',
      message: 'expected a number >= 1, got -5',
    });
  });

  it('says what each pattern asks for, not the rule for names', () => {
    const problems = problemsOf(`${repos}builders:
  - { name: build, repo: demo, pool: linux, sparse: ["../x"], steps: ${step} }
auth: { tokens: [{ name: ci, scopes: [push], sha256: ${'AB'.repeat(32)} }] }
events:
  webhooks: [{ name: hook, url: "ftp://example.org/x", secret: s }]
  amqp: { url: "https://broker.example.org", exchange: switchyard }
`);
    expect(problems).toContainEqual({
      path: 'builders[0].sparse[0]',
      message:
        'expected a relative path inside the repository, without ".." or control characters, bidi overrides or unpaired surrogates, got "../x"',
    });
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'auth.tokens[0].sha256',
        message: expect.stringMatching(/^expected a sha256 of 64 lower-case hex digits, got/),
      }),
    );
    expect(problems).toContainEqual({
      path: 'events.webhooks[0].url',
      message: expect.stringMatching(/^expected an http:\/\/ or https:\/\/ URL .*, got "ftp:\/\/example.org\/x"$/),
    });
    expect(problems).toContainEqual({
      path: 'events.amqp.url',
      message:
        'expected an amqp:// or amqps:// URL without spaces or control characters, got "https://broker.example.org"',
    });
  });

  it('refuses control characters, bidi overrides and unpaired surrogates in what reaches an environment, a path or a log', () => {
    const line = 'one line of text, without control characters, bidi overrides or unpaired surrogates';
    const text =
      'text without control characters, bidi overrides or unpaired surrogates (tabs and line breaks are fine)';
    const builder = (settings: string) =>
      problemsOf(`${repos}builders: [{ name: b, repo: demo, pool: linux, ${settings}, steps: ${step} }]\n`);
    expect(problemsOf('repos: [{ name: demo, url: "/srv/git/\\u202Eexe.git" }]\nbuilders: []\n')).toEqual([
      { path: 'repos[0].url', message: `expected ${line}, got "/srv/git/\\u202eexe.git"` },
    ]);
    expect(builder('branches: ["main\\0"]')).toEqual([
      { path: 'builders[0].branches[0]', message: `expected ${line}, got "main\\u0000"` },
    ]);
    expect(builder('tags: { "os\\a": linux }')).toEqual([
      { path: 'builders[0].tags', message: `key "os\\u0007": expected ${line}` },
    ]);
    expect(builder('env: { GOOD: "a\\0b", LONE: "\\uD800" }')).toEqual([
      { path: 'builders[0].env.GOOD', message: `expected ${text} or a number or a boolean, got "a\\u0000b"` },
      { path: 'builders[0].env.LONE', message: `expected ${text} or a number or a boolean, got "\\ud800"` },
    ]);
    const name = 'expected an environment variable name (letters, digits and "_", not starting with a digit)';
    expect(builder('env: { "1BAD": x, "A-B": y }')).toEqual([
      { path: 'builders[0].env', message: `key "1BAD": ${name}` },
      { path: 'builders[0].env', message: `key "A-B": ${name}` },
    ]);
    expect(
      problemsOf(
        `${repos}builders: [{ name: b, repo: demo, pool: linux, steps: [{ name: s, run: "echo \\e[31mred" }] }]\n`,
      ),
    ).toEqual([{ path: 'builders[0].steps[0].run', message: `expected ${text}, got "echo \\u001b[31mred"` }]);
    // Text that is merely not ASCII is fine, and so are tabs and line breaks where text may have several lines.
    parseConfig(
      'farm.yml',
      `${repos}builders: [{ name: b, repo: demo, pool: linux, branches: ["fonctionnalité/*"], env: { A: "x\\ty" }, steps: [{ name: s, run: "echo ünï😀\\n\\techo" }] }]\n`,
    );
  });

  it('refuses credentials in a webhook URL, saying to rely on the signature instead', () => {
    const problems = problemsOf(`${repos}builders: []
events: { webhooks: [{ name: hook, url: "https://ci:hunter2@hooks.example.org/in", secret: "0123456789abcdef" }] }
`);
    expect(problems).toEqual([
      {
        path: 'events.webhooks[0].url',
        message: expect.stringMatching(
          /without spaces or user:password@ .*switchyard-signature header, made with the secret/,
        ),
      },
    ]);
    // An @ past the host is part of the path or query, not credentials.
    parseConfig(
      'farm.yml',
      `${repos}builders: []\nevents: { webhooks: [{ name: hook, url: "https://hooks.example.org/in?to=ops@example.org", secret: "0123456789abcdef" }] }\n`,
    );
  });

  it('refuses globs that are not globs: unclosed brackets, braces and parentheses', () => {
    const problems = problemsOf(`${repos}branches: [{ match: "(release|esr", priority: 1 }]
builders:
  - { name: b, repo: demo, pool: linux, branches: ["[unclosed", "{a,b", "feature/{x,y}/**"], artifacts: ["dist/{app,lib.zip"], steps: ${step} }
`);
    expect(problems).toEqual([
      {
        path: 'builders[0].branches[0]',
        message: 'expected a glob, got "[unclosed": Missing closing: "]" - use "\\\\]" to match literal characters',
      },
      {
        path: 'builders[0].branches[1]',
        message: 'expected a glob, got "{a,b": Missing closing: "}" - use "\\\\}" to match literal characters',
      },
      {
        path: 'builders[0].artifacts[0]',
        message:
          'expected a glob, got "dist/{app,lib.zip": Missing closing: "}" - use "\\\\}" to match literal characters',
      },
      {
        path: 'branches[0].match',
        message: 'expected a glob, got "(release|esr": Missing closing: ")" - use "\\\\)" to match literal characters',
      },
    ]);
  });

  it('refuses one token listed twice, naming both entries', () => {
    const hash = 'a'.repeat(64);
    const problems = problemsOf(
      `${repos}builders: []
auth:
  tokens:
    - { name: ci, sha256: ${hash}, scopes: [read] }
    - { name: deploy, sha256: ${hash}, scopes: [admin] }
    - { name: hook, env: HOOK_TOKEN, scopes: [push] }
    - { name: bot, env: BOT_TOKEN, scopes: [cancel] }
`,
      { HOOK_TOKEN: 'same-secret', BOT_TOKEN: 'same-secret' },
    );
    expect(problems).toEqual([
      {
        path: 'auth.tokens[1]',
        message: 'the same token as auth.tokens[0] ("ci"): a token has one name and one set of scopes, so list it once',
      },
      {
        path: 'auth.tokens[3]',
        message:
          'the same token as auth.tokens[2] ("hook"): a token has one name and one set of scopes, so list it once',
      },
    ]);
  });

  it('names the file when YAML aliases would expand past the limit', () => {
    const rows = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + i);
      rows.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    expect(problemsOf(`${rows.join('\n')}\n`)).toEqual([
      { path: '', message: expect.stringMatching(/^YAML: .*alias/i) },
    ]);
  });

  it('reports YAML syntax errors and missing sections', () => {
    expect(problemsOf('repos: [\n')[0]?.message).toMatch(/^YAML syntax/);
    expect(problemsOf('builders: []\n')).toEqual([{ path: '', message: 'missing required setting `repos`' }]);
  });

  it('requires token environment variables to be set', () => {
    const config = `${repos}builders: []\nauth: { tokens: [{ name: ci, env: CI_TOKEN, scopes: [push] }] }\n`;
    expect(problemsOf(config)).toEqual([
      { path: 'auth.tokens[0].env', message: 'environment variable CI_TOKEN is not set or empty' },
    ]);
    const farm = parseConfig('farm.yml', config, { CI_TOKEN: 'secret' });
    expect(farm.tokens?.size).toBe(1);
  });

  it('turns JSON pointers into config paths', () => {
    expect(toConfigPath('/builders/1/after')).toBe('builders[1].after');
    expect(toConfigPath('/builders/0/steps/2/env/A~1B')).toBe('builders[0].steps[2].env.A/B');
    expect(toConfigPath('')).toBe('');
  });
});
