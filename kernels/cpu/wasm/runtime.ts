// The WebAssembly side of the CPU backend at run time: what this engine validates (SIMD, relaxed SIMD),
// the switch between the TypeScript and WebAssembly kernels (LLMJP4_CPU_KERNELS=ts|wasm), the one
// shared memory every thread's instance works in, and each thread's instance of the module.
// It does not pack or compute anything itself (gemm.ts and attention*.ts do).

import { Code, F32, V128 } from './code.js';
import { encodeModule, type FunctionDef, type MemoryImport } from './emitter.js';
import { gemmBlockFunction } from './gemm_kernel.js';
import { packDeepFunction, packWideFunction, scaleFunction } from './pack_kernel.js';
import { probsGradsFunction, softmaxBlockFunction } from './softmax_kernel.js';

const PAGE = 65536;

/**
 * The memory: shared (a SharedArrayBuffer underneath, so the pool's workers instantiate the module
 * against the same bytes), starting at 4 MiB and grown on demand by the calling thread before a job
 * (growth is visible to every thread at once). Kernels keep only scratch here — packed panels and
 * output tiles, a few MiB per thread for matmul, the packed Q/K/V of a bounded group of heads for
 * attention — so it stays far below the 2 GiB bound, which keeps every byte offset a positive i32.
 * A shared memory cannot move, so the engine reserves (but does not commit) the maximum's address
 * space up front; a kernel whose scratch would not fit takes the TypeScript path instead.
 */
const LIMITS: MemoryImport = { initial: 64, maximum: 32768, shared: true };
export const WASM_MAX_BYTES = LIMITS.maximum * PAGE;

/** Does the engine accept `fn` in a module with our shared memory import? */
function validates(fn: FunctionDef): boolean {
  try {
    return WebAssembly.validate(encodeModule(LIMITS, [fn]));
  } catch {
    return false;
  }
}

function probe(relaxed: boolean): FunctionDef {
  const f = new Code('probe', [], [F32]);
  const x = f.local(V128);
  f.f32x4Const(1).set(x);
  if (relaxed) f.get(x).get(x).get(x).f32x4RelaxedMadd().set(x);
  else f.get(x).get(x).f32x4Mul().set(x);
  f.get(x).f32x4ExtractLane(0);
  return f.finish();
}

/** 128-bit SIMD and threads (shared memory): Node 16.4+ validates both without flags. */
export const simdSupported = validates(probe(false));
/** Relaxed SIMD (f32x4.relaxed_madd): behind --experimental-wasm-relaxed-simd in Node 20, default in Node 22. */
export const relaxedSimdSupported = simdSupported && validates(probe(true));

export type CpuKernels = 'ts' | 'wasm';

let mode: CpuKernels = parseCpuKernelsEnv(typeof process !== 'undefined' ? process.env.LLMJP4_CPU_KERNELS : undefined);

/** The kernels LLMJP4_CPU_KERNELS selects: unset or empty = 'wasm' where SIMD validates, else 'ts'. */
export function parseCpuKernelsEnv(env: string | undefined, simd = simdSupported): CpuKernels {
  if (env === undefined || env === '') return simd ? 'wasm' : 'ts';
  if (env !== 'ts' && env !== 'wasm') throw new Error(`LLMJP4_CPU_KERNELS must be 'ts' or 'wasm', got '${env}'`);
  if (env === 'wasm' && !simd)
    throw new Error('LLMJP4_CPU_KERNELS=wasm: this engine does not validate WebAssembly SIMD with shared memory');
  return env;
}

/** Which float32 matmul/attention kernels the CPU backend runs: 'wasm' (default where SIMD validates) or 'ts'. */
export function getCpuKernels(): CpuKernels {
  return mode;
}

/** Switch the float32 matmul/attention kernels between WebAssembly SIMD and TypeScript (float64 always uses TypeScript). */
export function setCpuKernels(m: CpuKernels): void {
  if (m !== 'ts' && m !== 'wasm') throw new Error(`setCpuKernels: expected 'ts' or 'wasm', got '${String(m)}'`);
  if (m === 'wasm' && !simdSupported)
    throw new Error('setCpuKernels: this engine does not validate WebAssembly SIMD with shared memory');
  mode = m;
}

/** True when float32 kernels should take the WebAssembly path. */
export function useWasm(): boolean {
  return mode === 'wasm';
}

/** Kernel calls that took the WebAssembly path since start, by kernel (tests check the dispatch with it). */
const calls = { matmul: 0, attention: 0, attentionBackward: 0 };

export function wasmStats(): Readonly<typeof calls> {
  return { ...calls };
}

export function countWasmCall(kernel: keyof typeof calls): void {
  calls[kernel]++;
}

/** The module and memory, as passed to workers with each job (both survive structured cloning). */
export interface WasmHandle {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  relaxed: boolean;
}

let handle: WasmHandle | null = null;

/** The module (with relaxed multiply-add where validated) and the shared memory, built on first use. */
export function wasmHandle(): WasmHandle {
  if (handle === null) {
    const relaxed = relaxedSimdSupported;
    const functions = [
      gemmBlockFunction(relaxed),
      packDeepFunction(4),
      packDeepFunction(8),
      packWideFunction(4),
      packWideFunction(8),
      softmaxBlockFunction(),
      probsGradsFunction(),
      scaleFunction(),
    ];
    const module = new WebAssembly.Module(encodeModule(LIMITS, functions));
    const memory = new WebAssembly.Memory({ initial: LIMITS.initial, maximum: LIMITS.maximum, shared: true });
    handle = { module, memory, relaxed };
  }
  return handle;
}

/** Grow the shared memory to at least `bytes`; false (nothing changed) when that exceeds the bound. */
export function reserveBytes(bytes: number): boolean {
  if (bytes > WASM_MAX_BYTES) return false;
  const { memory } = wasmHandle();
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
  return true;
}

/** An exported kernel: i32 arguments (byte pointers, strides, counts), no result. */
type Kernel = (...args: number[]) => void;

/** What a thread uses: the exported kernels (see gemm_kernel.ts, pack_kernel.ts) and a float32 view of the whole memory. */
export interface WasmThread {
  /** (a, aStride, mTiles, b, bStride, nTiles, c, ldc, kc, accumulate) */
  gemmBlock: Kernel;
  /** (src, line, slivers, kc, dst), for A (4 rows) and B (8 columns) slivers. */
  packDeep4: Kernel;
  packDeep8: Kernel;
  packWide4: Kernel;
  packWide8: Kernel;
  /** (s, lds, p, pStride, slivers, groups, m, l, acc, ldacc, accVecs) */
  softmaxBlock: Kernel;
  /** (s, dp, ld, rows, groups, lse, D) */
  probsGrads: Kernel;
  /** (ptr, vecs, s) */
  scale: Kernel;
  f32: Float32Array;
}

let instance: { memory: WebAssembly.Memory; kernels: Omit<WasmThread, 'f32'> } | null = null;
let view: Float32Array | null = null;

/**
 * This thread's instance, made on its first job. Each worker has its own module state, so one cached
 * instance per thread; the memory is the same one everywhere (one per process). The float32 view is
 * re-made when the memory has grown since (a shared memory's `buffer` then reports the new length).
 */
export function wasmThread(h: WasmHandle): WasmThread {
  instance ??= instantiate(h);
  const buffer = instance.memory.buffer;
  if (view === null || view.byteLength !== buffer.byteLength) view = new Float32Array(buffer);
  return { ...instance.kernels, f32: view };
}

function instantiate(h: WasmHandle): NonNullable<typeof instance> {
  const e = new WebAssembly.Instance(h.module, { env: { memory: h.memory } }).exports as Record<string, Kernel>;
  const kernels = {
    gemmBlock: e.gemm_block!,
    packDeep4: e.pack_deep4!,
    packDeep8: e.pack_deep8!,
    packWide4: e.pack_wide4!,
    packWide8: e.pack_wide8!,
    softmaxBlock: e.softmax_block!,
    probsGrads: e.probs_grads!,
    scale: e.scale!,
  };
  return { memory: h.memory, kernels };
}
