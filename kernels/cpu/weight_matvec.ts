// The one place the CPU backend's few-row product with a stored weight is chosen: y = x·Wᵀ for x [rows, in]
// float32 and W [out, in] in bfloat16, float16, q8_0 or q4_0 (decode: one token's projections). For now the
// plain reference of kernels/cpu/quant; the WebAssembly SIMD kernels (kernels/cpu/wasm/) take the same
// arguments, so swapping them in is the one line below.

import { matvecReference } from './quant/matvec.js';
import type { PackedWeight } from './quant/formats.js';

/** y [rows, out] = x [rows, in] · Wᵀ, accumulated in float32 or better, the weight read once. */
export function weightMatvec(x: Float32Array, rows: number, w: PackedWeight, out?: Float32Array): Float32Array {
  return matvecReference(x, rows, w, out);
}
