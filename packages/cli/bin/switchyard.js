#!/usr/bin/env node
// The `switchyard` command. The CLI is TypeScript run through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
