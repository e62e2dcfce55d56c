// A per-kernel profile of any run, as torch.profiler's key_averages: every kernel call's wall time, bytes
// moved and (for the products) FLOPs, summed by kernel and phase (forward / backward). On with
// LLMJP4_PROFILE=1 (a table on stderr at exit) or `enableProfile()`; off, it costs one boolean test a call.
// Times are the host's: on an asynchronous backend (gpu.js webgpu) they measure issuing, not running.

import { storageBytes, type DType } from './dtype.js';
import { sizeOf, type Shape } from './shape.js';

export type Phase = 'forward' | 'backward';

export interface ProfileRow {
  kernel: string;
  phase: Phase;
  calls: number;
  /** Total wall time, milliseconds. */
  ms: number;
  /** Bytes read (inputs) and written (outputs). */
  bytes: number;
  /** Floating-point operations, where a formula is known (the products); 0 elsewhere. */
  flops: number;
}

let enabled = typeof process !== 'undefined' && process.env?.LLMJP4_PROFILE === '1';
let phase: Phase = 'forward';
const rows = new Map<string, ProfileRow>();

/** Is profiling on? (Checked by the op layer before each kernel call.) */
export function profiling(): boolean {
  return enabled;
}

export function enableProfile(on = true): void {
  enabled = on;
}

export function resetProfile(): void {
  rows.clear();
}

/** Run `fn` with kernels counted as `p` (autograd runs the backward thunks inside 'backward'). */
export function inPhase<T>(p: Phase, fn: () => T): T {
  const prev = phase;
  phase = p;
  try {
    return fn();
  } finally {
    phase = prev;
  }
}

interface BufLike {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Record one kernel call: its inputs, outputs, attributes and the time it took. */
export function recordKernel(
  kernel: string,
  inputs: readonly BufLike[],
  outputs: readonly BufLike[],
  attrs: unknown,
  ms: number,
) {
  const key = `${kernel}\u0000${phase}`;
  let row = rows.get(key);
  if (!row) rows.set(key, (row = { kernel, phase, calls: 0, ms: 0, bytes: 0, flops: 0 }));
  row.calls++;
  row.ms += ms;
  for (const b of [...inputs, ...outputs]) row.bytes += storageBytes(b.dtype, b.shape);
  row.flops += flopsOf(kernel, inputs, attrs);
}

/**
 * FLOPs of the kernels whose count a formula gives (2 per multiply-add): matmul and linear (2·M·N·K),
 * attention (2 products of Tq·Tk·HS per head, halved when causal; the backward does 5 such products).
 */
export function flopsOf(kernel: string, inputs: readonly BufLike[], attrs: unknown): number {
  const [a, b] = inputs;
  if (!a || !b) return 0;
  if (kernel === 'matmul') {
    const { transA, transB } = attrs as { transA: boolean; transB: boolean };
    const [M, K] = transA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!];
    const N = transB ? b.shape.at(-2)! : b.shape.at(-1)!;
    const batch = Math.max(sizeOf(a.shape.slice(0, -2)), sizeOf(b.shape.slice(0, -2)));
    return 2 * batch * M * N * K;
  }
  if (kernel === 'linear') {
    const K = a.shape.at(-1)!;
    return 2 * (sizeOf(a.shape) / K) * b.shape[0]! * K;
  }
  if (kernel === 'attention' || kernel === 'attentionBackward') {
    const [B, NH, Tq, HS] = a.shape as [number, number, number, number];
    const Tk = b.shape[2]!;
    const causal = (attrs as { causal: boolean }).causal ? 0.5 : 1;
    const products = kernel === 'attention' ? 2 : 5;
    return products * 2 * B * NH * Tq * Tk * HS * causal;
  }
  return 0;
}

/** The rows so far, the slowest first. */
export function profileRows(): ProfileRow[] {
  return [...rows.values()].sort((x, y) => y.ms - x.ms);
}

/** The profile as a text table: kernel × phase, calls, total ms, share, GB/s and GFLOP/s. */
export function profileTable(list: readonly ProfileRow[] = profileRows()): string {
  const total = list.reduce((s, r) => s + r.ms, 0);
  const head = ['kernel', 'phase', 'calls', 'total ms', 'share', 'GB/s', 'GFLOP/s'];
  const body = list.map((r) => [
    r.kernel,
    r.phase,
    String(r.calls),
    r.ms.toFixed(1),
    total > 0 ? `${((100 * r.ms) / total).toFixed(1)}%` : '-',
    r.ms > 0 ? (r.bytes / r.ms / 1e6).toFixed(2) : '-',
    r.flops > 0 && r.ms > 0 ? (r.flops / r.ms / 1e6).toFixed(1) : '',
  ]);
  body.push(['all kernels', '', String(list.reduce((s, r) => s + r.calls, 0)), total.toFixed(1), '100%', '', '']);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

if (enabled && typeof process !== 'undefined') {
  process.on('exit', () => {
    if (rows.size > 0) process.stderr.write(`\nLLMJP4_PROFILE: kernels of this run\n${profileTable()}\n`);
  });
}
