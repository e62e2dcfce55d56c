// Peak memory of one benchmark case, measured in a fresh process so nothing else inflates it: the
// child builds the suite's inputs, then reports how much one call raised its peak resident set
// (process.resourceUsage().maxRSS) — the call's extra memory beyond its inputs, to within the
// allocator's page granularity.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setNumThreads } from '../kernels/cpu/threads/pool.js';
import { SUITES } from './suites/index.js';
import type { SuiteOptions } from './suites/types.js';

/** Run `suite`'s case `label` once in a child process; returns the rise of peak RSS in bytes. */
export function measurePeakMemory(suite: string, label: string, opts: SuiteOptions): number {
  // The child runs this TypeScript file, so it needs tsx's loader whatever started the parent (tsx, vitest).
  const loader = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
  const args = ['--import', loader, fileURLToPath(import.meta.url), suite, label, JSON.stringify(opts)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`peak memory of '${label}' failed: ${r.stderr.trim().split('\n').pop()}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { bytes: number }).bytes;
}

function child(suite: string, label: string, opts: SuiteOptions): void {
  const found = SUITES[suite]!(opts).find((c) => c.label === label);
  if (!found) throw new Error(`no case '${label}' in suite '${suite}'`);
  setNumThreads(found.threads ?? opts.threads);
  const before = process.resourceUsage().maxRSS;
  found.run();
  const after = process.resourceUsage().maxRSS;
  console.log(JSON.stringify({ bytes: (after - before) * 1024 }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [suite, label, opts] = process.argv.slice(2);
  child(suite!, label!, JSON.parse(opts!) as SuiteOptions);
}
