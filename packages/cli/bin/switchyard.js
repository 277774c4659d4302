#!/usr/bin/env node
// The `switchyard` command, run from its TypeScript sources through tsx. (`npm run build` makes
// packages/cli/dist/switchyard.mjs for running with plain node instead.)
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
