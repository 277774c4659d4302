import { defineConfig } from 'tsup';

/**
 * `npm run build` compiles the `switchyard` command into one ESM file that runs with plain
 * `node` (no tsx), for installing on build machines. Third-party packages stay external and
 * come from node_modules; the workspace packages are compiled in.
 */
export default defineConfig({
  entry: { switchyard: 'packages/cli/src/main.ts' },
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
