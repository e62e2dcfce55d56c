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

/** C[b] = op(A[b]) · op(B[b]), op = transpose when the flag is set. */
export const matmul: Kernel<TypedArray, KernelAttrs['matmul']> = ([a, b], { transA, transB }, out) => {
  const A = a!;
  const B = b!;
  const [M, N] = out.shape.slice(-2) as [number, number];
  const K = transA ? A.shape.at(-2)! : A.shape.at(-1)!;
  // Element strides of op(A) as an M×K matrix and of op(B) as a K×N matrix.
  const [sAi, sAp] = transA ? [1, M] : [K, 1];
  const [sBp, sBj] = transB ? [1, K] : [N, 1];
  const outBatch = out.shape.slice(0, -2);
  const aOff = batchOffsets(outBatch, A.shape.slice(0, -2), M * K);
  const bOff = batchOffsets(outBatch, B.shape.slice(0, -2), K * N);
  const c = allocArray(out.dtype, sizeOf(out.shape));
  const acc = new Float64Array(N);
  for (let bi = 0; bi < aOff.length; bi++) {
    const cBase = bi * M * N;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let p = 0; p < K; p++) {
        const aip = A.data[aOff[bi] + i * sAi + p * sAp];
        const bRow = bOff[bi] + p * sBp;
        for (let j = 0; j < N; j++) acc[j] += aip * B.data[bRow + j * sBj];
      }
      for (let j = 0; j < N; j++) c[cBase + i * N + j] = acc[j];
    }
  }
  return { data: c, shape: out.shape, dtype: out.dtype } satisfies CpuBuf;
};
