/**
 * `npm run package [-- --out <dir>]` makes the worker package, `switchyard-worker-<version>.tgz`
 * (in dist/ by default): the `switchyard` command with the worker, the regional cache and the
 * client commands (packages/cli/src/worker-package.ts), compiled with every dependency into plain
 * JavaScript. It has no dependencies and no native module, so `npm install -g <file>` installs it
 * on a machine with Node 20 and nothing else: no compiler, no registry (docs/guide/installing.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'tsup';

const ROOT = resolve(import.meta.dirname, '..');
const NAME = 'switchyard-worker';

const { values } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'dist') } } });
const out = resolve(values.out);
const { version, license, engines } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
const stage = await mkdtemp(join(tmpdir(), `${NAME}-`));
try {
  await build({
    config: false,
    silent: true,
    entry: { switchyard: join(ROOT, 'packages/cli/src/worker-package.ts') },
    outDir: join(stage, 'dist'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: () => ({ js: '.mjs' }),
    // Everything in: the package installs nothing else.
    noExternal: [/./],
    // Each command still loads only what it runs: the worker and the cache are chunks of their own.
    splitting: true,
    shims: true,
    metafile: true,
    // The CommonJS dependencies bundled in (pino, yauzl, prom-client) call require() for Node's modules.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
  });
  const metafilePath = join(stage, 'dist', 'metafile-esm.json');
  assertSelfContained(JSON.parse(await readFile(metafilePath, 'utf8')));
  await rm(metafilePath);
  const manifest = {
    name: NAME,
    version,
    description: 'Switchyard on a build machine: the worker, the regional cache and the client commands',
    license,
    type: 'module',
    engines,
    bin: { switchyard: 'dist/switchyard.mjs' },
    files: ['dist'],
  };
  await writeFile(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await mkdir(out, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }),
  ) as { filename: string }[];
  console.log(join(out, packed!.filename));
} finally {
  await rm(stage, { recursive: true, force: true });
}

/** Refuses a bundle that would still import a package at run time: the install would need it. */
function assertSelfContained(metafile: {
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}) {
  const node = new Set(builtinModules);
  const outside = Object.values(metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((i) => i.external && !i.path.startsWith('node:') && !node.has(i.path))
    .map((i) => i.path);
  if (outside.length > 0) throw new Error(`the worker package would import ${[...new Set(outside)].join(', ')}`);
}
