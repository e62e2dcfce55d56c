// matmul and linear on the CPU. `matmulReference` is the plain loop — batched with broadcasting,
// either operand optionally transposed, accumulating in float64 — and stays as the oracle. The table's
// `matmul` and `linear` dispatch by size: tiny products use the plain loop, larger ones the blocked
// GEMM (gemm.ts), on every core once the work is big enough to pay for the threads. Float32 products
// with at least 4 rows run the blocked GEMM in WebAssembly SIMD (wasm/gemm.ts) unless the
// TypeScript kernels are selected (LLMJP4_CPU_KERNELS=ts, setCpuKernels('ts')).

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, KernelTable, OutSpec } from '../../core/kernel_types.js';
import { contiguousStrides, sizeOf, type Shape } from '../../core/shape.js';
import { ACTIVATIONS, GEMV_COLS, gemmJob, gemvJob, MR, tileSize, type GemmArgs } from './gemm.js';
import { allocFor, allocShared, asShared, isShared } from './shared.js';
import { getNumThreads, parallelFor } from './threads/pool.js';
import { GEMM_THREAD_BYTES, WASM_MC, WASM_NC, wasmGemmJob, type WasmGemmArgs } from './wasm/gemm.js';
import { MR as WASM_MR } from './wasm/gemm_kernel.js';
import { countWasmCall, reserveBytes, useWasm, wasmHandle } from './wasm/runtime.js';

type CpuBuf = Buf<TypedArray>;

/**
 * For each batch index of the output, the element offset of the matching matrix in an operand whose
 * batch dims broadcast against the output's (right-aligned; a size-1 dim repeats).
 */
export function batchOffsets(outBatch: Shape, batch: Shape, matrixSize: number): Int32Array {
  const n = sizeOf(outBatch);
  const offsets = new Int32Array(n);
  const lead = outBatch.length - batch.length;
  const strides = contiguousStrides(batch);
  const outStrides = contiguousStrides(outBatch);
  for (let b = 0; b < n; b++) {
    let off = 0;
    for (let d = 0; d < batch.length; d++) {
      const coord = Math.floor(b / outStrides[lead + d]) % outBatch[lead + d];
      if (batch[d] !== 1) off += coord * strides[d];
    }
    offsets[b] = off * matrixSize;
  }
  return offsets;
}

/**
 * C[b] = op(A[b]) · op(B[b]), op = transpose when the flag is set. The loop order follows B's layout
 * so the innermost loop always walks memory in order: for B stored [K, N] it adds scaled rows of B
 * into a row of C (i-p-j); for B stored [N, K] (x·wᵀ) each C[i, j] is a dot product of two rows (i-j-p).
 */
export const matmulReference: Kernel<TypedArray, KernelAttrs['matmul']> = ([a, b], { transA, transB }, out) => {
  const A = a.data;
  const B = b.data;
  const [M, N] = out.shape.slice(-2) as [number, number];
  const K = transA ? a.shape.at(-2)! : a.shape.at(-1)!;
  // Element strides of op(A) as an M×K matrix.
  const [sAi, sAp] = transA ? [1, M] : [K, 1];
  const outBatch = out.shape.slice(0, -2);
  const aOff = batchOffsets(outBatch, a.shape.slice(0, -2), M * K);
  const bOff = batchOffsets(outBatch, b.shape.slice(0, -2), K * N);
  const c = allocArray(out.dtype, sizeOf(out.shape));
  const acc = new Float64Array(N);
  for (let bi = 0; bi < aOff.length; bi++) {
    const a0 = aOff[bi];
    const b0 = bOff[bi];
    const c0 = bi * M * N;
    for (let i = 0; i < M; i++) {
      if (transB) {
        for (let j = 0; j < N; j++) {
          let sum = 0;
          for (let p = 0; p < K; p++) sum += A[a0 + i * sAi + p * sAp] * B[b0 + j * K + p];
          c[c0 + i * N + j] = sum;
        }
      } else {
        acc.fill(0);
        for (let p = 0; p < K; p++) {
          const aip = A[a0 + i * sAi + p * sAp];
          for (let j = 0; j < N; j++) acc[j] += aip * B[b0 + p * N + j];
        }
        c.set(acc, c0 + i * N);
      }
    }
  }
  return { data: c, shape: out.shape, dtype: out.dtype } satisfies CpuBuf;
};

/**
 * Size thresholds in multiply-adds: below `blockedMin` the plain loop wins (packing costs more than it
 * saves); from `threadedMin` on (~1 ms of single-thread work) the tiles are spread over threads.
 * Exported so tests can force each path on small, edge-heavy shapes.
 */
export const matmulTuning = { blockedMin: 32 * 32 * 32, threadedMin: 1 << 21 };

export interface Epilogue {
  bias: Buf<TypedArray> | null;
  residual: Buf<TypedArray> | null;
  activation: KernelAttrs['linear']['activation'];
}

export const NO_EPILOGUE: Epilogue = { bias: null, residual: null, activation: 'none' };

/**
 * Run C = op(A)·op(B) (+ epilogue) through the blocked GEMM, threaded when large. Returns C and, with an
 * activation, the pre-activation. `into`, when given, is a zero-filled array (e.g. one expert's rows of a
 * larger buffer) that receives C instead of a new allocation.
 */
export function gemm(
  a: Buf<TypedArray>,
  b: Buf<TypedArray>,
  transA: boolean,
  transB: boolean,
  out: OutSpec,
  ep: Epilogue,
  into?: TypedArray,
) {
  const [M, N] = out.shape.slice(-2) as [number, number];
  const K = transA ? a.shape.at(-2)! : a.shape.at(-1)!;
  const outBatch = out.shape.slice(0, -2);
  const aOff = batchOffsets(outBatch, a.shape.slice(0, -2), M * K);
  const bOff = batchOffsets(outBatch, b.shape.slice(0, -2), K * N);
  const n = sizeOf(out.shape);
  const threaded = getNumThreads() > 1 && aOff.length * M * N * K >= matmulTuning.threadedMin;
  const threads = threaded ? getNumThreads() : 1;
  // Float32 with a full register tile of rows and some K: WebAssembly, if its scratch fits.
  const wasm = useWasm() && out.dtype === 'float32' && M >= WASM_MR && K > 0 && reserveBytes(threads * GEMM_THREAD_BYTES);
  // Fewer rows than the register tile (e.g. one token's x·wᵀ): the matrix-vector path.
  const vector = !wasm && M < MR;
  // Threads need every array they touch in shared memory.
  const share = <T extends TypedArray>(x: T): T => (threaded ? asShared(x) : x);
  const alloc = () => (threaded ? allocShared(out.dtype, n) : allocFor(out.dtype, n));
  const tiles = wasm ? tileSize(M, N, aOff.length, threads, { mc: WASM_MC, nc: WASM_NC }) : tileSize(M, N, aOff.length, threads);
  // Workers can only write into shared memory: an ordinary `into` is filled through a shared scratch.
  const c = into && (!threaded || isShared(into)) ? into : alloc();
  const pre = ep.activation === 'none' ? null : alloc();
  const args: GemmArgs = {
    a: share(a.data),
    b: share(b.data),
    c,
    M,
    N,
    K,
    aOff,
    bOff,
    sAi: transA ? 1 : K,
    sAp: transA ? M : 1,
    sBp: transB ? 1 : N,
    sBj: transB ? K : 1,
    ...tiles,
    mTiles: Math.ceil(M / tiles.mc),
    nTiles: vector ? Math.ceil(N / GEMV_COLS) : Math.ceil(N / tiles.nc),
    bias: ep.bias ? share(ep.bias.data) : null,
    residual: ep.residual ? share(ep.residual.data) : null,
    activation: ACTIVATIONS.indexOf(ep.activation),
    pre,
  };
  const tasks = aOff.length * (vector ? args.nTiles : args.mTiles * args.nTiles);
  if (wasm) {
    countWasmCall('matmul');
    const wargs: WasmGemmArgs = { ...args, wasm: wasmHandle() };
    if (threaded) parallelFor(wasmGemmJob, wargs, tasks);
    else for (let t = 0; t < tasks; t++) wasmGemmJob.run(wargs, t, 0);
    if (into && c !== into) into.set(c);
    return { c: into ?? c, pre };
  }
  const job = vector ? gemvJob : gemmJob;
  if (threaded) parallelFor(job, args, tasks);
  else for (let t = 0; t < tasks; t++) job.run(args, t, 0);
  if (into && c !== into) into.set(c);
  return { c: into ?? c, pre };
}

/** The table's matmul: the plain loop for tiny products, the blocked (and threaded) GEMM otherwise. */
export const matmul: Kernel<TypedArray, KernelAttrs['matmul']> = (inputs, attrs, out) => {
  const [a, b] = inputs;
  const K = attrs.transA ? a.shape.at(-2)! : a.shape.at(-1)!;
  if (sizeOf(out.shape) * K < matmulTuning.blockedMin) return matmulReference(inputs, attrs, out);
  const { c } = gemm(a, b, attrs.transA, attrs.transB, out, NO_EPILOGUE);
  return { data: c, shape: out.shape, dtype: out.dtype };
};

/** y = act(x·wᵀ + b) + residual in one pass over each output tile (x's leading dims flattened into rows). */
export const linear: Kernel<TypedArray, KernelAttrs['linear']> = (inputs, { activation, hasBias, hasResidual }, out) => {
  const [x, w] = inputs;
  const bias = hasBias ? inputs[2] : null;
  const residual = hasResidual ? inputs[hasBias ? 3 : 2] : null;
  const inF = w.shape[1];
  const rows = sizeOf(x.shape) / Math.max(inF, 1);
  const x2 = { data: x.data, shape: [rows, inF], dtype: x.dtype };
  const spec = { shape: [rows, w.shape[0]], dtype: out.dtype };
  const { c, pre } = gemm(x2, w, false, true, spec, { bias, residual, activation });
  const y = { data: c, shape: out.shape, dtype: out.dtype };
  return pre === null ? y : { out: y, aux: { pre: { data: pre, shape: out.shape, dtype: out.dtype } } };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const matmulKernels = { matmul, linear } satisfies Partial<KernelTable<TypedArray>>;
