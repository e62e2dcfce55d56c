// Comparisons and boolean logic (results are bool, no gradient), `where` (differentiable in both
// branches) and `maskedFill`. Operands broadcast like the arithmetic ops.

import type { DType } from '../dtype.js';
import type { NoAttrKernel } from '../kernel_types.js';
import { apply, type KernelOp } from '../op.js';
import { broadcastShapes, fmt } from '../shape.js';
import { scalarTensor, type Tensor, type TensorLike } from '../tensor.js';
import { broadcastApply, numeric, pair } from './util.js';
import { expand } from './views.js';

declare module '../kernel_types.js' {
  /** Comparisons and logic over equal shapes (the op broadcast them), giving bool; `where` picks a or b. */
  interface KernelAttrs {
    eq: NoAttrs;
    ne: NoAttrs;
    lt: NoAttrs;
    le: NoAttrs;
    gt: NoAttrs;
    ge: NoAttrs;
    logicalAnd: NoAttrs;
    logicalOr: NoAttrs;
    logicalNot: NoAttrs;
    /** out[i] = cond[i] ? a[i] : b[i] */
    where: NoAttrs;
  }
}

type AB = 'a' | 'b';

function compareOp<K extends NoAttrKernel>(name: K): KernelOp<AB, K> {
  return {
    name,
    inputs: ['a', 'b'],
    shape: ({ a }) => a,
    dtype: ({ a, b }) => (numeric(name, a, b), 'bool'),
  };
}

function logicOp<I extends AB, K extends NoAttrKernel>(name: K, inputs: readonly I[]): KernelOp<I, K> {
  return {
    name,
    inputs,
    shape: (x) => x[inputs[0]],
    dtype: (d) => {
      for (const n of inputs) if (d[n] !== 'bool') throw new Error(`${name}: expects bool tensors, got ${d[n]}`);
      return 'bool';
    },
  };
}

export const Eq = compareOp('eq');
export const Ne = compareOp('ne');
export const Lt = compareOp('lt');
export const Le = compareOp('le');
export const Gt = compareOp('gt');
export const Ge = compareOp('ge');
export const LogicalAnd = logicOp('logicalAnd', ['a', 'b']);
export const LogicalOr = logicOp('logicalOr', ['a', 'b']);
export const LogicalNot = logicOp('logicalNot', ['a']);

export const eq = (a: TensorLike, b: TensorLike) => broadcastApply(Eq, a, b);
export const ne = (a: TensorLike, b: TensorLike) => broadcastApply(Ne, a, b);
export const lt = (a: TensorLike, b: TensorLike) => broadcastApply(Lt, a, b);
export const le = (a: TensorLike, b: TensorLike) => broadcastApply(Le, a, b);
export const gt = (a: TensorLike, b: TensorLike) => broadcastApply(Gt, a, b);
export const ge = (a: TensorLike, b: TensorLike) => broadcastApply(Ge, a, b);
export const logicalAnd = (a: Tensor, b: Tensor) => broadcastApply(LogicalAnd, a, b);
export const logicalOr = (a: Tensor, b: Tensor) => broadcastApply(LogicalOr, a, b);
export const logicalNot = (a: Tensor) => apply(LogicalNot, { a }, {});

type CAB = 'cond' | 'a' | 'b';

/** y = cond ? a : b; da = dy where cond, db = dy where not. */
export const Where: KernelOp<CAB, 'where'> = {
  name: 'where',
  inputs: ['cond', 'a', 'b'],
  shape: ({ cond }) => cond,
  dtype: ({ cond, a, b }: Record<CAB, DType>) => {
    if (cond !== 'bool') throw new Error(`where: condition must be bool, got ${cond}`);
    if (a !== b) throw new Error(`where: dtype mismatch: a is ${a}, b is ${b}`);
    return a;
  },
  save: ['cond'],
  backward: (dy, { cond }) => ({ a: () => where(cond, dy, 0), b: () => where(cond, 0, dy) }),
};

/** Elementwise choice with broadcasting; numbers take the other branch's dtype (float32 if both are numbers). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] =
    typeof a === 'number' && typeof b === 'number'
      ? [scalarTensor('where', a, 'float32', cond.storage.backend), scalarTensor('where', b, 'float32', cond.storage.backend)]
      : pair('where', a, b);
  const shape = broadcastShapes('where', cond.shape, ta.shape, tb.shape);
  return apply(Where, { cond: expand(cond, shape), a: expand(ta, shape), b: expand(tb, shape) }, {});
}

/** x with `value` where mask is true (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (shape.length !== x.ndim || shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`maskedFill: mask ${fmt(mask.shape)} must broadcast to x ${fmt(x.shape)}`);
  }
  return where(mask, value, x);
}
