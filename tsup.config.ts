import { defineConfig } from 'tsup';

/**
 * `npm run build` compiles the `switchyard` command into one ESM file that runs with plain
 * `node` (no tsx), for installing on build machines. Third-party packages stay external and
 * come from node_modules; the workspace packages are compiled in.
 */
export default defineConfig({
  // The signer's worker threads load their own module, so it is compiled beside the bundle.
  entry: { switchyard: 'packages/cli/src/main.ts', 'signing-worker': 'packages/signing/src/pool/pool-worker.ts' },
  outDir: 'packages/cli/dist',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: () => ({ js: '.mjs' }),
  noExternal: [/^@switchyard\//],
  external: [/^(?!@switchyard\/)[a-z@]/],
  clean: true,
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
});
