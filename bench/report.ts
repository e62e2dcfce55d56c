// The benchmark report: one row per case with the median and spread of its latency and the rate it
// reached (GFLOP/s for compute-bound kernels, GB/s for memory-bound ones), printed as a table and
// written as JSON to bench/results/<suite>.json together with the machine it ran on.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Row {
  /** Case label, e.g. `matmul 256x256x256`. */
  label: string;
  dtype: string;
  /** Latency median and median absolute deviation, in ms. */
  medianMs: number;
  madMs: number;
  minMs: number;
  samples: number;
  /** Floating-point operations or bytes moved per call, when the case defines them. */
  flops?: number;
  bytes?: number;
  /** Tokens per call, for tokens/s. */
  tokens?: number;
  /** UTF-8 text bytes per call, for text-processing cases (the tokenizer): reported as MB/s. */
  textBytes?: number;
  /** Threads the case ran with. */
  threads?: number;
  /** The float32 matmul/attention kernels it ran with: 'wasm' (WebAssembly SIMD) or 'ts' (TypeScript). */
  kernels?: string;
  /** Set when the case is compared to a reference in the same run: its median, and reference median / this median. */
  refMedianMs?: number;
  speedup?: number;
  /** Rise of peak resident memory during one call, measured in a fresh process. */
  peakBytes?: number;
}

export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

const gflops = (r: Row) => (r.flops === undefined ? '' : (r.flops / (r.medianMs * 1e6)).toFixed(2));
const gbps = (r: Row) => (r.bytes === undefined ? '' : (r.bytes / (r.medianMs * 1e6)).toFixed(2));
const mbps = (r: Row) => (r.textBytes === undefined ? '' : (r.textBytes / (r.medianMs * 1e3)).toFixed(2));
const tokps = (r: Row) => (r.tokens === undefined ? '' : Math.round((r.tokens * 1000) / r.medianMs).toLocaleString('en-US'));
const mib = (r: Row) => (r.peakBytes === undefined ? '' : (r.peakBytes / 2 ** 20).toFixed(1));

/** A fixed-width text table: case, dtype, median ± MAD, samples, threads, kernels, rates, peak memory, ratio to the reference. */
export function formatTable(suite: string, rows: readonly Row[]): string {
  const header = [
    'case',
    'dtype',
    'median ms',
    '± MAD',
    'n',
    'threads',
    'kernels',
    'GFLOP/s',
    'GB/s',
    'MB/s',
    'tokens/s',
    'peak MiB',
    'vs ref',
  ];
  const cells = rows.map((r) => [
    r.label,
    r.dtype,
    r.medianMs.toPrecision(4),
    r.madMs.toPrecision(2),
    String(r.samples),
    r.threads === undefined ? '' : String(r.threads),
    r.kernels ?? '',
    gflops(r),
    gbps(r),
    mbps(r),
    tokps(r),
    mib(r),
    r.speedup === undefined ? '' : `${r.speedup.toFixed(2)}×`,
  ]);
  // Columns no case fills (no FLOP count, no reference in this run) are left out.
  const keep = header.map((_, i) => i < 5 || cells.some((c) => c[i] !== ''));
  const pick = (c: string[]) => c.filter((_, i) => keep[i]);
  const [h, body] = [pick(header), cells.map(pick)];
  const widths = h.map((name, i) => Math.max(name.length, ...body.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [`## ${suite}`, line(h), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Write <outDir or bench/results>/<suite>.json atomically (temp file + rename). */
export function writeResults(suite: string, rows: readonly Row[], options: Record<string, unknown>, outDir?: string): string {
  const dir = outDir ?? join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${suite}.json`);
  const body = {
    suite,
    date: new Date().toISOString(),
    machine: machine(),
    options,
    rows: rows.map((r) => ({
      ...r,
      gflops: r.flops === undefined ? undefined : r.flops / (r.medianMs * 1e6),
      gbps: r.bytes === undefined ? undefined : r.bytes / (r.medianMs * 1e6),
      tokensPerSecond: r.tokens === undefined ? undefined : (r.tokens * 1000) / r.medianMs,
      mbps: r.textBytes === undefined ? undefined : r.textBytes / (r.medianMs * 1e3),
    })),
  };
  writeFileSync(`${path}.tmp`, JSON.stringify(body, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
  return path;
}
