// matmul and linear with a weight kept in a storage dtype (bfloat16, float16, q8_0, q4_0) and float32
// activations. Few rows (decode) run the matrix-vector kernel (weight_matvec.ts), which reads each weight
// row once; many rows (prefill) decode the weight a chunk of rows at a time into a float32 scratch and run
// the float32 GEMM (matmul.ts) on each chunk, so no float32 copy of the whole weight is ever made.

import { isStorageDtype, type StorageDType, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, KernelTable, OutSpec } from '../../core/kernel_types.js';
import { fmt, sizeOf } from '../../core/shape.js';
import { ACTIVATIONS, epilogue, type GemmArgs } from './gemm.js';
import { gemm, NO_EPILOGUE, type matmulKernels } from './matmul.js';
import { allocFor, allocShared, asShared } from './shared.js';
import { decodeRange, packedOf } from './storage.js';
import { getNumThreads } from './threads/pool.js';
import { weightMatvec } from './weight_matvec.js';

type CpuBuf = Buf<TypedArray>;

/**
 * Rows of x up to which the matrix-vector path runs (it reads the weight once for all rows; the GEMM path
 * pays a decode of the weight per chunk but multiplies at GEMM speed), and the float32 scratch one chunk
 * of decoded weight rows may take. Exported so tests can force both paths on small shapes.
 */
export const weightTuning = { matvecMaxRows: 8, chunkFloats: 1 << 20 };

/** y [rows, N] = x [rows, K] · Wᵀ for a stored W [N, K]. */
export function storedTimesT(x: Float32Array, rows: number, w: CpuBuf): Float32Array {
  const [N, K] = w.shape as [number, number];
  if (rows <= weightTuning.matvecMaxRows) return weightMatvec(x, rows, packedOf(w, 'linear'));
  const dtype = w.dtype as StorageDType;
  const out = allocFor('float32', rows * N);
  const chunk = Math.max(4, Math.min(N, Math.floor(weightTuning.chunkFloats / Math.max(K, 1))));
  // Threads read every array from shared memory: x once, the scratch allocated there.
  const threaded = getNumThreads() > 1;
  const xs = { data: threaded ? asShared(x) : x, shape: [rows, K], dtype: 'float32' as const };
  const scratch = threaded ? allocShared('float32', chunk * K) : new Float32Array(chunk * K);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const n = Math.min(chunk, N - n0);
    decodeRange(w.data, dtype, n0 * K, n * K, scratch);
    const wc = { data: scratch.subarray(0, n * K), shape: [n, K], dtype: 'float32' as const };
    const { c } = gemm(xs, wc, false, true, { shape: [rows, n], dtype: 'float32' }, NO_EPILOGUE);
    // The chunk's columns n0 … n0+n−1 of every output row.
    for (let r = 0; r < rows; r++) out.set(c.subarray(r * n, (r + 1) * n), r * N + n0);
  }
  return out;
}

/** y [rows, N] = x [rows, K] · W for a stored W [K, N] (the input gradient of a frozen stored weight). */
export function storedTimes(x: Float32Array, rows: number, w: CpuBuf): Float32Array {
  const [K, N] = w.shape as [number, number];
  const dtype = w.dtype as StorageDType;
  const out = new Float32Array(rows * N);
  const chunk = Math.max(4, Math.min(K, Math.floor(weightTuning.chunkFloats / Math.max(N, 1))));
  const scratch = new Float32Array(chunk * N);
  const xSlice = new Float32Array(rows * chunk);
  for (let k0 = 0; k0 < K; k0 += chunk) {
    const k = Math.min(chunk, K - k0);
    decodeRange(w.data, dtype, k0 * N, k * N, scratch);
    // x's columns k0 … k0+k−1 as a contiguous [rows, k] block, times the decoded rows [k, N].
    for (let r = 0; r < rows; r++) xSlice.set(x.subarray(r * K + k0, r * K + k0 + k), r * k);
    const xs = { data: xSlice.subarray(0, rows * k), shape: [rows, k], dtype: 'float32' as const };
    const wc = { data: scratch.subarray(0, k * N), shape: [k, N], dtype: 'float32' as const };
    const { c } = gemm(xs, wc, false, false, { shape: [rows, N], dtype: 'float32' }, NO_EPILOGUE);
    for (let i = 0; i < out.length; i++) out[i] += c[i]!;
  }
  return out;
}

function checkStored(op: string, x: CpuBuf, w: CpuBuf): void {
  if (x.dtype !== 'float32' || w.shape.length !== 2)
    throw new Error(`${op}: a ${w.dtype} weight takes float32 activations and is 2-D, got x ${x.dtype} and w ${fmt(w.shape)}`);
}

/** matmul(a, b) with a stored b: a [M, K] float32 times b [N, K] (transB, x·wᵀ) or b [K, N]. */
const storedMatmul: Kernel<TypedArray, KernelAttrs['matmul']> = ([a, b], { transA, transB }, out) => {
  checkStored('matmul', a!, b!);
  if (transA || a!.shape.length !== 2)
    throw new Error(`matmul: a ${b!.dtype} weight takes a contiguous 2-D a, got ${fmt(a!.shape)}`);
  const M = a!.shape[0]!;
  const data = transB ? storedTimesT(a!.data as Float32Array, M, b!) : storedTimes(a!.data as Float32Array, M, b!);
  return { data, shape: out.shape, dtype: 'float32' };
};

/** linear(x, w, b, residual) with a stored w [out, in]: the product above, then the GEMM's epilogue. */
const storedLinear: Kernel<TypedArray, KernelAttrs['linear']> = (inputs, { activation, hasBias, hasResidual }, out) => {
  const [x, w] = inputs;
  checkStored('linear', x!, w!);
  const [N, K] = w!.shape as [number, number];
  const rows = sizeOf(x!.shape) / Math.max(K, 1);
  const c = storedTimesT(x!.data as Float32Array, rows, w!);
  const bias = hasBias ? inputs[2]!.data : null;
  const residual = hasResidual ? inputs[hasBias ? 3 : 2]!.data : null;
  const pre = activation === 'none' ? null : new Float32Array(c.length);
  if (bias || residual || pre) {
    const g = { c, bias, residual, pre, N, activation: ACTIVATIONS.indexOf(activation) } as unknown as GemmArgs;
    epilogue(g, 0, rows, N, 0);
  }
  const y = { data: c, shape: out.shape, dtype: out.dtype };
  return pre === null ? y : { out: y, aux: { pre: { data: pre, shape: out.shape, dtype: out.dtype } } };
};

/** The matmul family's table with stored weights routed here; float weights go to the table as given. */
export function withStoredWeights(t: typeof matmulKernels): typeof matmulKernels {
  return {
    matmul: (inputs, attrs, out: OutSpec) => (isStorageDtype(inputs[1]!.dtype) ? storedMatmul : t.matmul)(inputs, attrs, out),
    linear: (inputs, attrs, out: OutSpec) => (isStorageDtype(inputs[1]!.dtype) ? storedLinear : t.linear)(inputs, attrs, out),
  } satisfies Partial<KernelTable<TypedArray>>;
}
