// The reference matmul: a plain loop, batched with broadcasting, either operand optionally transposed
// (so x·wᵀ with HF's [out, in] weights never copies w). Accumulates in float64. The fast blocked,
// threaded kernel is a separate issue; this one stays as the oracle it is tested against.

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs } from '../../core/kernel_types.js';
import { contiguousStrides, sizeOf, type Shape } from '../../core/shape.js';

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
export const matmul: Kernel<TypedArray, KernelAttrs['matmul']> = ([a, b], { transA, transB }, out) => {
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
