// `npm run bench [-- suite ...] [--profile] [--threads N] [--dtype float32|float64] [--time MS] [--quick] [--out DIR]
//                 [--backend cpu|gpu] [--gpu-mode webgpu|headlessgl|webasm|cpu|auto]`
// Runs the named suites (all by default), prints a table per suite and writes bench/results/<suite>.json:
// median and spread, GFLOP/s or GB/s, tokens/s, threads, dtype, peak memory, and the ratio against the
// simple reference measured in the same run. With `--backend gpu` (or LLMJP4_BACKEND=gpu) the suites
// that have GPU cases (matmul, attention, layer) run on the GPU backend, each case against the CPU
// backend in the same run, and write <suite>.gpu-<mode>.json.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getCpuKernels, selectBackend, setCpuKernels, setNumThreads } from '../core/backend.js';
import { enableProfile, profileTable, resetProfile } from '../core/profile.js';
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
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      backend: { type: 'string', default: process.env.LLMJP4_BACKEND ?? 'cpu' },
      'gpu-mode': { type: 'string', default: process.env.LLMJP4_GPU_MODE ?? 'auto' },
    },
  });
  const dtype = values.dtype;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`bench: --dtype must be float32 or float64, got ${dtype}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`bench: --threads must be a positive integer, got ${values.threads}`);
  const unknown = positionals.filter((s) => !(s in SUITES));
  if (unknown.length > 0)
    throw new Error(`bench: unknown suite(s) ${unknown.join(', ')}; available: ${Object.keys(SUITES).join(', ')}`);
  const onGpu = values.backend === 'gpu';
  if (!onGpu && values.backend !== 'cpu') throw new Error(`bench: --backend must be cpu or gpu, got ${values.backend}`);
  if (onGpu && dtype !== 'float32') throw new Error('bench: the gpu backend computes in float32 only');
  const noGpuCases = onGpu ? positionals.filter((s) => !GPU_SUITES.includes(s)) : [];
  if (noGpuCases.length > 0)
    throw new Error(
      `bench: suite(s) ${noGpuCases.join(', ')} have no GPU cases; with --backend gpu choose from ${GPU_SUITES.join(', ')}`,
    );
  const names = positionals.length > 0 ? positionals : onGpu ? GPU_SUITES : Object.keys(SUITES);
  const opts: SuiteOptions = { dtype, quick: values.quick, threads };
  const timeMs = Number(values.time);
  const m = machine();
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}; bench threads ${threads}`);
  if (names.length > 1) {
    const flags = [
      '--dtype',
      dtype,
      '--time',
      String(timeMs),
      '--threads',
      String(threads),
      ...(opts.quick ? ['--quick'] : []),
      ...(values.profile ? ['--profile'] : []),
    ];
    const backendFlags = onGpu ? ['--backend', 'gpu', '--gpu-mode', values['gpu-mode']] : [];
    return runIsolated(
      names,
      [...flags, ...backendFlags, ...(values.out ? ['--out', values.out] : [])],
      values.out,
      onGpu ? values['gpu-mode'] : null,
    );
  }
  if (onGpu) {
    const gpu = await selectBackend({ backend: 'gpu', mode: values['gpu-mode'] });
    console.log(
      `backend: ${gpu.name} (asked for ${values['gpu-mode']}); the reference column is the CPU backend in the same run`,
    );
    opts.gpu = gpu;
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
      const row: Row = {
        label: c.label,
        dtype,
        threads: caseThreads,
        kernels: c.kernels,
        ...t,
        flops: c.flops,
        bytes: c.bytes,
        tokens: c.tokens,
        textBytes: c.textBytes,
      };
      if (c.reference) {
        if (!refMs.has(c.reference)) {
          const ref = await measure(`${c.label} (reference)`, c.reference, {
            timeMs,
            minSamples: opts.quick ? 1 : Math.min(minSamples, 3),
          });
          refMs.set(c.reference, ref.medianMs);
        }
        row.refMedianMs = refMs.get(c.reference)!;
        row.speedup = row.refMedianMs / t.medianMs;
      }
      if (c.peakMemory) row.peakBytes = measurePeakMemory(suite, c.label, opts);
      if (values.profile) await profileCase(c.label, c.run);
      rows.push(row);
    }
    const file = resultName(suite, opts.gpu ? values['gpu-mode'] : null);
    console.log(`\n${formatTable(opts.gpu ? `${suite} on ${opts.gpu.name} (vs ref = × the CPU backend)` : suite, rows)}`);
    const path = writeResults(
      file,
      rows,
      { dtype, timeMs, quick: opts.quick, threads, backend: opts.gpu?.name ?? 'cpu' },
      values.out,
    );
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
function runIsolated(
  names: string[],
  flags: string[],
  outDir: string | undefined,
  gpuMode: string | null,
): Record<string, Row[]> {
  const dir = outDir ?? join(dirname(fileURLToPath(import.meta.url)), 'results');
  const all: Record<string, Row[]> = {};
  for (const suite of names) {
    const r = spawnSync(process.execPath, ['--import', tsxLoader(), fileURLToPath(import.meta.url), suite, ...flags], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`bench: suite ${suite} failed (exit ${r.status})`);
    all[suite] = (JSON.parse(readFileSync(join(dir, `${resultName(suite, gpuMode)}.json`), 'utf8')) as { rows: Row[] }).rows;
  }
  return all;
}

/** The suites with GPU cases (see suites/gpu.ts). */
const GPU_SUITES = ['matmul', 'attention', 'layer'];

/** Results file name: <suite>, or <suite>.gpu-<mode> for a GPU run (named by the mode asked for). */
function resultName(suite: string, gpuMode: string | null): string {
  return gpuMode === null ? suite : `${suite}.gpu-${gpuMode}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runBench(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}

/** --profile: one more call of the case, outside the timed samples, with the per-kernel profile on. */
async function profileCase(label: string, run: () => unknown): Promise<void> {
  resetProfile();
  enableProfile(true);
  try {
    await run();
  } finally {
    enableProfile(false);
  }
  console.log(`\nprofile of one call: ${label}\n${profileTable()}`);
  resetProfile();
}
