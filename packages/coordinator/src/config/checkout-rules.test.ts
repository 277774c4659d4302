import { expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './load-config.ts';

const config = (builder: string) =>
  `repos: [{ name: demo, url: /srv/git/demo.git }]\nbuilders:\n  - { name: b, repo: demo, pool: linux, steps: [{ name: s, run: "true" }], ${builder} }\n`;

it('refuses a tools manifest a sparse checkout leaves out, and takes one it holds', () => {
  let problems: unknown;
  try {
    parseConfig('farm.yml', config('sparse: [src], tools: build/tools.tt'));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    problems = (error as ConfigError).problems;
  }
  expect(problems).toEqual([
    { path: 'builders[0].tools', message: expect.stringContaining('outside the sparse checkout (src)') },
  ]);
  // Cone mode holds the top level, the sparse directories, and the files of the directories above them.
  for (const tools of ['tools.tt', 'src/tools.tt', 'src/deep/tools.tt', 'a/tools.tt']) {
    expect(() => parseConfig('farm.yml', config(`sparse: [src, a/b], tools: ${tools}`))).not.toThrow();
  }
});
