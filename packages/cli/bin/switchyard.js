#!/usr/bin/env node
// The `switchyard` command. It runs the build in ../dist (`npm run build`, which `npm install`
// runs) when the build is newer than every source it was made from: a client command then starts
// in about a tenth of a second. In a checkout being edited it runs the TypeScript sources through
// tsx instead, so an edit takes effect without a rebuild, at two seconds or so of start-up.
import { buildIsCurrent } from './build-is-current.js';

if (buildIsCurrent()) {
  await import('../dist/switchyard.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
