import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';

const repos = 'repos: [{ name: demo, url: /srv/git/demo.git }]\n';
const step = '[{ name: s, run: "true" }]';

const problemsOf = (builders: string) => {
  try {
    parseConfig('farm.yml', `${repos}builders:\n${builders}`);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
};

describe('artifacts and fetch in the config', () => {
  it('accepts fetches of artifacts declared by a builder this one runs after, even through another', () => {
    const farm = parseConfig(
      'farm.yml',
      `${repos}builders:
  - name: build
    repo: demo
    pool: linux
    artifacts: ["dist/*.tar.gz", { path: out/report.txt, name: report.txt, optional: true }, symbols.zip]
    steps: ${step}
  - { name: test, repo: demo, pool: linux, after: build, steps: ${step}, fetch: [{ from: build, artifact: target.tar.gz, unpack: true }] }
  - name: talos
    repo: demo
    pool: linux
    after: test
    fetch: [{ from: build, artifact: report.txt, to: reports }, { from: build, artifact: symbols.zip }]
    steps: ${step}
`,
    );
    expect(farm.settings.artifactExpiryDays).toBe(30);
    expect(farm.settings.maxArtifactBytes).toBe(8 * 1024 ** 3);
  });

  it('refuses fetches from builders that are not upstream, of artifacts nobody declares, and paths outside the job', () => {
    const problems =
      problemsOf(`  - { name: build, repo: demo, pool: linux, artifacts: ["dist/*.tar.gz", ../escape.bin], steps: ${step} }
  - { name: lint, repo: demo, pool: linux, artifacts: [a/app.bin, b/app.bin], steps: ${step} }
  - name: test
    repo: demo
    pool: linux
    after: build
    fetch:
      - { from: lint, artifact: app.bin }
      - { from: build, artifact: target.zip }
      - { from: build, artifact: target.tar.gz, to: /etc }
      - { from: build, artifact: target.tar.gz, to: ../.., unpack: true }
    steps: ${step}
  - { name: untested, repo: demo, pool: linux, fetch: [{ from: build, artifact: x.tar.gz }], steps: ${step} }
  - { name: sneaky, repo: demo, pool: linux, after: build, fetch: [{ from: build, artifact: x.bin, unpack: true }], steps: ${step} }
`);
    expect(problems).toEqual([
      {
        path: 'builders[0].artifacts[1]',
        message: 'expected a path inside the directory the steps run in, got "../escape.bin"',
      },
      { path: 'builders[1].artifacts[1]', message: 'duplicate artifact "app.bin" (first at builders[1].artifacts[0])' },
      {
        path: 'builders[2].fetch[0].from',
        message:
          'expected a builder this one runs after (through `after`), so its job of the same push has finished; got "lint" (it runs after: build)',
      },
      {
        path: 'builders[2].fetch[1].artifact',
        message:
          'builder "build" declares no artifact that could be named "target.zip" (its artifacts: dist/*.tar.gz, escape.bin)',
      },
      { path: 'builders[2].fetch[2].to', message: 'expected a path relative to where the steps run, got "/etc"' },
      {
        path: 'builders[2].fetch[3].to',
        message: 'expected a path inside the directory the steps run in, got "../.."',
      },
      {
        path: 'builders[3].fetch[0].from',
        message:
          'expected a builder this one runs after (through `after`), so its job of the same push has finished; got "build" (this builder has no `after`)',
      },
      {
        path: 'builders[4].fetch[0].artifact',
        message:
          'builder "build" declares no artifact that could be named "x.bin" (its artifacts: dist/*.tar.gz, escape.bin)',
      },
      {
        path: 'builders[4].fetch[0].unpack',
        message: 'can only unpack .tar, .tar.gz, .tgz and .zip files, and "x.bin" is none of those',
      },
    ]);
  });

  it('refuses a ".." anywhere in a path, where a glob could climb out of the job through it', () => {
    expect(
      problemsOf(`  - { name: build, repo: demo, pool: linux, artifacts: ["**/../c", { path: "out/../../x", name: x }], steps: ${step} }
  - { name: test, repo: demo, pool: linux, after: build, fetch: [{ from: build, artifact: x, to: "in/../.." }], steps: ${step} }
`),
    ).toEqual([
      {
        path: 'builders[0].artifacts[0]',
        message: 'expected a path inside the directory the steps run in, got "**/../c"',
      },
      {
        path: 'builders[0].artifacts[1].path',
        message: 'expected a path inside the directory the steps run in, got "out/../../x"',
      },
      {
        path: 'builders[1].fetch[0].to',
        message: 'expected a path inside the directory the steps run in, got "in/../.."',
      },
    ]);
  });

  it('keeps the names of the implicit steps for them, and names that need renaming', () => {
    const problems =
      problemsOf(`  - { name: build, repo: demo, pool: linux, artifacts: ["out/report v1.txt"], steps: [{ name: upload-artifacts, run: "true" }] }
  - { name: test, repo: demo, pool: linux, after: build, fetch: [{ from: build, artifact: x.txt }], steps: [{ name: fetch-artifacts, run: "true" }] }
`);
    expect(problems.map((p) => p.path)).toEqual([
      'builders[0].steps',
      'builders[0].artifacts[0]',
      'builders[1].steps',
      'builders[1].fetch[0].artifact',
    ]);
    expect(problems[1]?.message).toBe(
      '"report v1.txt" can\'t be an artifact name (letters, digits, ".", "_", "+", "-"); give it a `name:`',
    );
  });
});
