// The one place the CPU backend's few-row product with a stored weight is chosen: y = x·Wᵀ for x [rows, in]
// float32 and W [out, in] in bfloat16, float16, q8_0 or q4_0 (decode: one token's projections): the
// WebAssembly SIMD kernels (kernels/cpu/wasm/matvec.ts) for a weight in a weight arena (where upload puts
// large stored weights), else — or with LLMJP4_CPU_KERNELS=ts — the plain reference of kernels/cpu/quant.

import { matvecReference } from './quant/matvec.js';
import type { PackedWeight } from './quant/formats.js';
import { wasmMatvec } from './wasm/matvec.js';
import { useWasm } from './wasm/runtime.js';

/** y [rows, out] = x [rows, in] · Wᵀ, accumulated in float32 or better, the weight read once. */
export function weightMatvec(x: Float32Array, rows: number, w: PackedWeight, out?: Float32Array): Float32Array {
  return useWasm() ? wasmMatvec(x, rows, w, out) : matvecReference(x, rows, w, out);
}
