// Elementwise arithmetic on two tensors, broadcasting like NumPy. Broadcasting happens in exactly one
// place — `expand` — so these ops see equal shapes, and expand's backward sums gradients back down.

import type { DType } from '../dtype.js';
import type { KernelOp } from '../op.js';
import type { Shape } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { where } from './compare.js';
import { broadcastApply, floating, numeric } from './util.js';

declare module '../kernel_types.js' {
  /** Binary elementwise kernels over equal shapes (the op broadcast them): out[i] = f(a[i], b[i]). */
  interface KernelAttrs {
    add: NoAttrs;
    sub: NoAttrs;
    mul: NoAttrs;
    div: NoAttrs;
    pow: NoAttrs;
    maximum: NoAttrs;
    minimum: NoAttrs;
  }
}

type AB = 'a' | 'b';
const same = ({ a }: Record<AB, Shape>) => a;
const num =
  (op: string) =>
  ({ a, b }: Record<AB, DType>) =>
    numeric(op, a, b);

/** y = a + b; da = dy, db = dy. */
export const Add: KernelOp<AB, 'add'> = {
  name: 'add',
  inputs: ['a', 'b'],
  shape: same,
  dtype: num('add'),
  backward: (dy) => ({ a: () => dy, b: () => dy }),
};
/** y = a − b; da = dy, db = −dy. */
export const Sub: KernelOp<AB, 'sub'> = {
  name: 'sub',
  inputs: ['a', 'b'],
  shape: same,
  dtype: num('sub'),
  backward: (dy) => ({ a: () => dy, b: () => dy.neg() }),
};
/** y = a·b; da = dy·b, db = dy·a. */
export const Mul: KernelOp<AB, 'mul'> = {
  name: 'mul',
  inputs: ['a', 'b'],
  shape: same,
  dtype: num('mul'),
  save: ['a', 'b'],
  backward: (dy, { a, b }) => ({ a: () => dy.mul(b), b: () => dy.mul(a) }),
};
/** y = a/b; da = dy/b, db = −dy·y/b. */
export const Div: KernelOp<AB, 'div'> = {
  name: 'div',
  inputs: ['a', 'b'],
  shape: same,
  save: ['b', 'out'],
  dtype: ({ a, b }) => floating('div')({ x: numeric('div', a, b) }),
  backward: (dy, { b, out }) => ({ a: () => dy.div(b), b: () => dy.mul(out).div(b).neg() }),
};
/**
 * y = aᵇ; da = dy·b·aᵇ⁻¹, db = dy·y·ln a — taken as 0 where a = 0 and b ≥ 0 (the limit PyTorch uses),
 * so x.pow(2) at x = 0 has a finite exponent gradient.
 */
export const Pow: KernelOp<AB, 'pow'> = {
  name: 'pow',
  inputs: ['a', 'b'],
  shape: same,
  save: ['a', 'b', 'out'],
  dtype: ({ a, b }) => floating('pow')({ x: numeric('pow', a, b) }),
  backward: (dy, { a, b, out }) => ({
    a: () => dy.mul(b).mul(a.pow(b.sub(1))),
    b: () => where(a.eq(0).logicalAnd(b.ge(0)), 0, dy.mul(out).mul(a.log())),
  }),
};

/** Share of the gradient each side of maximum/minimum gets: 1 where it won, ½ on ties, 0 where it lost. */
function winnerShare(dy: Tensor, wins: Tensor, ties: Tensor): Tensor {
  return where(wins, dy, where(ties, dy.mul(0.5), 0));
}

/** y = max(a, b); the larger side gets dy (split evenly on ties, as torch.maximum). */
export const Maximum: KernelOp<AB, 'maximum'> = {
  name: 'maximum',
  inputs: ['a', 'b'],
  shape: same,
  dtype: num('maximum'),
  save: ['a', 'b'],
  backward: (dy, { a, b }) => ({ a: () => winnerShare(dy, a.gt(b), a.eq(b)), b: () => winnerShare(dy, b.gt(a), a.eq(b)) }),
};
/** y = min(a, b); the smaller side gets dy (split evenly on ties). */
export const Minimum: KernelOp<AB, 'minimum'> = {
  name: 'minimum',
  inputs: ['a', 'b'],
  shape: same,
  dtype: num('minimum'),
  save: ['a', 'b'],
  backward: (dy, { a, b }) => ({ a: () => winnerShare(dy, a.lt(b), a.eq(b)), b: () => winnerShare(dy, b.lt(a), a.eq(b)) }),
};

export const add = (a: TensorLike, b: TensorLike) => broadcastApply(Add, a, b);
export const sub = (a: TensorLike, b: TensorLike) => broadcastApply(Sub, a, b);
export const mul = (a: TensorLike, b: TensorLike) => broadcastApply(Mul, a, b);
export const div = (a: TensorLike, b: TensorLike) => broadcastApply(Div, a, b);
export const pow = (a: TensorLike, b: TensorLike) => broadcastApply(Pow, a, b);
export const maximum = (a: TensorLike, b: TensorLike) => broadcastApply(Maximum, a, b);
export const minimum = (a: TensorLike, b: TensorLike) => broadcastApply(Minimum, a, b);
