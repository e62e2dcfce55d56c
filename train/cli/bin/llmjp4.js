#!/usr/bin/env node
// Entry point of the `llmjp4` bin. From the installed package it runs the compiled CLI
// (dist/train/cli/main.js; `npm pack` builds it). From a clone — told apart by the repository's
// tsconfig.json, which the package does not ship — it runs the TypeScript source through tsx (a
// devDependency), so a fresh clone needs no build step and never runs a stale dist/.
import { existsSync } from 'node:fs';

const clone = existsSync(new URL('../../../tsconfig.json', import.meta.url));
let main;
if (clone) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../main.ts'));
} else {
  ({ main } = await import('../../../dist/train/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
