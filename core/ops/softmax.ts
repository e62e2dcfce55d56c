// softmax and logSoftmax over one axis. The kernels subtract the row max before exp (so exp never
// overflows); the backward passes use the saved output, never recomputing exp.

import { apply, type KernelOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { floating } from './util.js';

declare module '../kernel_types.js' {
  /** Along one axis, the input viewed as [outer, size, inner]. */
  interface KernelAttrs {
    softmax: { axis: number };
    logSoftmax: { axis: number };
  }
}

/** y = eˣ / Σ eˣ; dx = y·(dy − Σ dy·y). */
export const Softmax: KernelOp<'x', 'softmax'> = {
  name: 'softmax',
  inputs: ['x'],
  shape: ({ x }) => x,
  dtype: floating('softmax'),
  save: ['out'],
  backward: (dy, { out: y }, { axis }) => ({ x: () => y.mul(dy.sub(dy.mul(y).sum(axis, true))) }),
};

/** y = x − log Σ eˣ; dx = dy − eʸ·Σ dy. */
export const LogSoftmax: KernelOp<'x', 'logSoftmax'> = {
  name: 'logSoftmax',
  inputs: ['x'],
  shape: ({ x }) => x,
  dtype: floating('logSoftmax'),
  save: ['out'],
  backward: (dy, { out: y }, { axis }) => ({ x: () => dy.sub(y.exp().mul(dy.sum(axis, true))) }),
};

export function softmax(x: Tensor, axis: number): Tensor {
  return apply(Softmax, { x }, { axis: normalizeAxis('softmax', axis, x.ndim) });
}

export function logSoftmax(x: Tensor, axis: number): Tensor {
  return apply(LogSoftmax, { x }, { axis: normalizeAxis('logSoftmax', axis, x.ndim) });
}
