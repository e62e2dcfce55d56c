// Matrix products: `matmul` with batch broadcasting (the fused `linear` is in linear.ts).
// A transposed operand is passed to the kernel as its contiguous original plus a flag, so neither
// x·wᵀ nor any backward product ever materialises a transpose.

import { isFloating, isStorageDtype } from '../dtype.js';
import { apply, type KernelOp } from '../op.js';
import { broadcastShapes, fmt, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { contiguous, reshape, squeeze, sumTo, unsqueeze } from './views.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /**
     * a [...batchA, M, K] (or [..., K, M] when transA) times b [...batchB, K, N] (or [..., N, K] when
     * transB); batch dims broadcast.
     */
    matmul: { transA: boolean; transB: boolean };
  }
}

type AB = 'a' | 'b';

/** The logical (as-multiplied) shape of a stored operand. */
function logical(s: Shape, trans: boolean): Shape {
  return trans ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s;
}

/**
 * C = op(A)·op(B) over broadcast batch dims, op = transpose when flagged.
 * dA = dC·Bᵀ and dB = Aᵀ·dC (each summed over the batch dims it was broadcast along).
 */
export const MatMul: KernelOp<AB, 'matmul'> = {
  name: 'matmul',
  inputs: ['a', 'b'],
  save: ['a', 'b'],
  shape: ({ a, b }, { transA, transB }) => {
    const [la, lb] = [logical(a, transA), logical(b, transB)];
    if (la.at(-1) !== lb.at(-2)) throw new Error(`matmul: inner dimensions differ: a is ${fmt(la)}, b is ${fmt(lb)}`);
    const batch = broadcastShapes('matmul', la.slice(0, -2), lb.slice(0, -2));
    return [...batch, la.at(-2)!, lb.at(-1)!];
  },
  // b may be a weight kept in a storage dtype, as linear uses it (x·wᵀ), or its input gradient (dy·w).
  storageInputs: ['b'],
  dtype: ({ a, b }) => {
    if (isStorageDtype(b)) {
      if (a !== 'float32') throw new Error(`matmul: a ${b} b takes a float32 a, got ${a}`);
      return a;
    }
    if (a !== b || !isFloating(a)) throw new Error(`matmul: expects two float32 or two float64 tensors, got ${a} and ${b}`);
    return a;
  },
  backward: (dy, { a, b }, { transA, transB }) => {
    const A = transA ? a.mT : a;
    const B = transB ? b.mT : b;
    return {
      a: () => {
        const dA = sumTo(matmul(dy, B.mT), A.shape);
        return transA ? dA.mT : dA;
      },
      b: () => {
        const dB = sumTo(matmul(A.mT, dy), B.shape);
        return transB ? dB.mT : dB;
      },
    };
  },
};

/** An operand as the kernel wants it: contiguous, or the contiguous original of a transposed view. */
function operand(t: Tensor): [Tensor, boolean] {
  if (t.isContiguous()) return [t, false];
  const back = t.mT;
  if (back.isContiguous()) return [back, true];
  return [contiguous(t), false];
}

/**
 * A stored 2-D weight as the kernel reads it: the tensor as stored (row-major strides) or its .mT. Decided by
 * the strides, not isContiguous, which ignores size-1 axes: [K, 1] may be a [1, K] weight's .mT, whose
 * blocks run along K.
 */
function storedOperand(t: Tensor): [Tensor, boolean] {
  const rowMajor = (x: Tensor) => x.strides[1] === 1 && x.strides[0] === x.shape[1];
  if (rowMajor(t.mT)) return [t.mT, true];
  if (rowMajor(t)) return [t, false];
  throw new Error(`matmul: a ${t.dtype} b must be a weight as stored or its .mT, got a strided view ${fmt(t.shape)}`);
}

/** Matrix product with NumPy/PyTorch semantics: batch dims broadcast; a 1-D operand is a vector. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0)
    throw new Error(`matmul: both operands need at least 1 dimension, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  if (a.ndim === 1 || b.ndim === 1) {
    // A vector is a 1-row (left) or 1-column (right) matrix whose extra axis is dropped again.
    let y = matmul(a.ndim === 1 ? unsqueeze(a, 0) : a, b.ndim === 1 ? unsqueeze(b, 1) : b);
    if (b.ndim === 1) y = squeeze(y, -1);
    return a.ndim === 1 ? squeeze(y, b.ndim === 1 ? -1 : -2) : y;
  }
  if (b.ndim === 2 && a.ndim > 2) {
    // [..., M, K]·[K, N] is one [(...·M), K]·[K, N] product: one kernel call, and dB = Aᵀ·dC comes
    // out [K, N] directly instead of per batch and then summed.
    const rows = reshape(a, [-1, a.shape.at(-1)!]);
    return reshape(matmul(rows, b), [...a.shape.slice(0, -1), b.shape.at(-1)!]);
  }
  if (isStorageDtype(b.dtype) && b.ndim !== 2)
    throw new Error(`matmul: a ${b.dtype} b must be a 2-D weight (or its .mT), got ${fmt(b.shape)}`);
  // A stored weight is read as [N, K] (x·wᵀ) or [K, N]; the activations come contiguous.
  const [sa, transA] = isStorageDtype(b.dtype) ? [contiguous(a), false] : operand(a);
  const [sb, transB] = isStorageDtype(b.dtype) ? storedOperand(b) : operand(b);
  return apply(MatMul, { a: sa, b: sb }, { transA, transB });
}
