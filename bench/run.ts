// `npm run bench [-- suite ...] [--threads N] [--dtype float32|float64] [--time MS] [--quick] [--out DIR]`
// Runs the named suites (all by default), prints a table per suite and writes bench/results/<suite>.json:
// median and spread, GFLOP/s or GB/s, tokens/s, threads, dtype, peak memory, and the ratio against the
// simple reference measured in the same run.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setNumThreads } from '../kernels/cpu/threads/pool.js';
import { getCpuKernels, setCpuKernels } from '../kernels/cpu/wasm/runtime.js';
import { measure } from './measure.js';
import { measurePeakMemory, tsxLoader } from './peak_memory.js';
import { formatTable, machine, writeResults, type Row } from './report.js';
import { SUITES } from './suites/index.js';
import type { SuiteOptions } from './suites/types.js';

export { SUITES };

export async function runBench(argv: string[]): Promise<Record<string, Row[]>> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dtype: { type: 'string', default: 'float32' },
      time: { type: 'string', default: '500' },
      threads: { type: 'string', default: String(availableParallelism()) },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const dtype = values.dtype;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`bench: --dtype must be float32 or float64, got ${dtype}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`bench: --threads must be a positive integer, got ${values.threads}`);
  const unknown = positionals.filter((s) => !(s in SUITES));
  if (unknown.length > 0) throw new Error(`bench: unknown suite(s) ${unknown.join(', ')}; available: ${Object.keys(SUITES).join(', ')}`);
  const names = positionals.length > 0 ? positionals : Object.keys(SUITES);
  const opts: SuiteOptions = { dtype, quick: values.quick, threads };
  const timeMs = Number(values.time);
  const m = machine();
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}; bench threads ${threads}`);
  if (names.length > 1) {
    const flags = ['--dtype', dtype, '--time', String(timeMs), '--threads', String(threads), ...(opts.quick ? ['--quick'] : [])];
    return runIsolated(names, [...flags, ...(values.out ? ['--out', values.out] : [])], values.out);
  }
  const all: Record<string, Row[]> = {};
  const defaultKernels = getCpuKernels();
  for (const suite of names) {
    const rows: Row[] = [];
    // Reference medians by function: cases that share a reference function time it once.
    const refMs = new Map<() => unknown, number>();
    for (const c of SUITES[suite]!(opts)) {
      const caseThreads = c.threads ?? threads;
      setNumThreads(caseThreads);
      setCpuKernels(c.kernels ?? defaultKernels);
      const minSamples = opts.quick ? 2 : (c.minSamples ?? 5);
      const t = await measure(c.label, c.run, { timeMs, minSamples, warmup: c.warmup });
      const row: Row = { label: c.label, dtype, threads: caseThreads, kernels: c.kernels, ...t, flops: c.flops, bytes: c.bytes, tokens: c.tokens, textBytes: c.textBytes };
      if (c.reference) {
        if (!refMs.has(c.reference)) {
          const ref = await measure(`${c.label} (reference)`, c.reference, { timeMs, minSamples: opts.quick ? 1 : Math.min(minSamples, 3) });
          refMs.set(c.reference, ref.medianMs);
        }
        row.refMedianMs = refMs.get(c.reference)!;
        row.speedup = row.refMedianMs / t.medianMs;
      }
      if (c.peakMemory) row.peakBytes = measurePeakMemory(suite, c.label, opts);
      rows.push(row);
    }
    console.log(`\n${formatTable(suite, rows)}`);
    const path = writeResults(suite, rows, { dtype, timeMs, quick: opts.quick, threads }, values.out);
    console.log(`wrote ${path}`);
    all[suite] = rows;
  }
  setCpuKernels(defaultKernels);
  return all;
}

/**
 * Several suites run one per fresh process: measured in one process, a suite's numbers depend on what
 * ran before it (the JIT's type feedback, the heap) — ratios moved by up to 8× that way. Each child
 * prints its own table and writes its JSON, which is read back here.
 */
function runIsolated(names: string[], flags: string[], outDir: string | undefined): Record<string, Row[]> {
  const dir = outDir ?? join(dirname(fileURLToPath(import.meta.url)), 'results');
  const all: Record<string, Row[]> = {};
  for (const suite of names) {
    const r = spawnSync(process.execPath, ['--import', tsxLoader(), fileURLToPath(import.meta.url), suite, ...flags], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bench: suite ${suite} failed (exit ${r.status})`);
    all[suite] = (JSON.parse(readFileSync(join(dir, `${suite}.json`), 'utf8')) as { rows: Row[] }).rows;
  }
  return all;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runBench(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
