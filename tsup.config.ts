import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

/**
 * `npm run build` (which `npm install` runs, through `prepare`) compiles the `switchyard` command
 * into ESM that runs with plain `node`. Third-party packages stay external and come from
 * node_modules; the workspace packages are compiled in. Each command's heavy modules (the
 * coordinator, the worker, the signer, the demo) are dynamic imports, which esbuild splits into
 * chunks of their own: a client command loads only the entry, commander and the client.
 *
 * packages/cli/bin/switchyard.js runs this build when `build-stamp.json` says it is newer than
 * every source it was made from, and the TypeScript sources through tsx otherwise.
 * `npm run package` builds the installable worker from the same sources (scripts/package.ts).
 */
export default defineConfig((overrides) => {
  const outDir = overrides.outDir ?? 'packages/cli/dist';
  // Taken before esbuild reads a source: a file saved during the build counts as newer.
  const startedAt = Date.now();
  return {
    // The signer's worker threads load their own module, so it is compiled beside the bundle.
    entry: { switchyard: 'packages/cli/src/main.ts', 'signing-worker': 'packages/signing/src/pool/pool-worker.ts' },
    outDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: () => ({ js: '.mjs' }),
    noExternal: [/^@switchyard\//],
    external: [/^(?!@switchyard\/)[a-z@]/],
    clean: true,
    sourcemap: true,
    metafile: true,
    banner: { js: '#!/usr/bin/env node' },
    onSuccess: () => writeBuildStamp(outDir, startedAt),
  };
});

/** Writes build-stamp.json last, so that a build under way or one that failed is never taken for current. */
async function writeBuildStamp(outDir: string, startedAt: number): Promise<void> {
  const metafilePath = join(outDir, 'metafile-esm.json');
  const metafile = JSON.parse(await readFile(metafilePath, 'utf8')) as { inputs: Record<string, unknown> };
  const sources = Object.keys(metafile.inputs).filter((input) => !input.includes('node_modules/'));
  await rm(metafilePath);
  await writeFile(join(outDir, 'build-stamp.json'), `${JSON.stringify({ startedAt, sources })}\n`);
}
