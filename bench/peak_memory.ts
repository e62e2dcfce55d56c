// Peak memory of one benchmark case, measured in a fresh process so nothing else inflates it: the
// child builds the suite's inputs, resets the kernel's resident-set high-water mark, runs the case once
// and reports how far the peak rose above the resident size before the call — the call's extra
// memory beyond its inputs, to page granularity. Linux only (/proc); elsewhere it is not reported.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setCpuKernels, setNumThreads } from '../core/backend.js';
import { SUITES } from './suites/index.js';
import type { SuiteOptions } from './suites/types.js';

/** Run `suite`'s case `label` once in a child process; returns the rise of peak RSS in bytes. */
export function measurePeakMemory(suite: string, label: string, opts: SuiteOptions): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const args = ['--import', tsxLoader(), fileURLToPath(import.meta.url), suite, label, JSON.stringify(opts)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`peak memory of '${label}' failed: ${r.stderr.trim().split('\n').pop()}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { bytes: number }).bytes;
}

/** tsx's loader, for child processes that run TypeScript whatever started the parent (tsx, vitest). */
export function tsxLoader(): string {
  return pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
}

/** A field of /proc/self/status in bytes (Linux). */
function procStatus(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) * 1024;
}

function child(suite: string, label: string, opts: SuiteOptions): void {
  const found = SUITES[suite]!(opts).find((c) => c.label === label);
  if (!found) throw new Error(`no case '${label}' in suite '${suite}'`);
  setNumThreads(found.threads ?? opts.threads);
  if (found.kernels) setCpuKernels(found.kernels);
  // Building the suite (every case's inputs) set the high-water mark already: reset it to the current
  // resident size (Linux: "5" > clear_refs), so the peak read afterwards is this call's alone.
  writeFileSync('/proc/self/clear_refs', '5');
  const before = procStatus('VmRSS');
  found.run();
  console.log(JSON.stringify({ bytes: Math.max(0, procStatus('VmHWM') - before) }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [suite, label, opts] = process.argv.slice(2);
  child(suite!, label!, JSON.parse(opts!) as SuiteOptions);
}
