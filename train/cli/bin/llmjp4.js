#!/usr/bin/env node
// Entry point of the `llmjp4` bin. It runs the TypeScript CLI (train/cli/main.ts) through tsx, so a fresh
// clone needs no build step; `npm run build` still emits plain JS for library use.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main.ts');
process.exitCode = await main(process.argv.slice(2));
