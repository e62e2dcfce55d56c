// Dtype conversion. `cast` always writes a fresh buffer, which is also how `clone` copies.

import type { DType } from '../dtype.js';
import { apply, type KernelOp } from '../op.js';
import type { Tensor } from '../tensor.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** Convert to `dtype` (also the output spec's): float → int truncates toward zero, anything → bool is x ≠ 0. */
    cast: { dtype: DType };
  }
}

/** y = x converted to `dtype`; dx = dy converted back (only floating inputs can require grad). */
export const Cast: KernelOp<'x', 'cast'> = {
  name: 'cast',
  inputs: ['x'],
  shape: ({ x }) => x,
  dtype: (_, { dtype }) => dtype,
  save: ['x'],
  backward: (dy, { x }) => ({ x: () => cast(dy, x.dtype) }),
};

/** x as `dtype` (x itself when it already is). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : apply(Cast, { x }, { dtype });
}

/** A copy with its own storage; gradients flow through. */
export function clone(x: Tensor): Tensor {
  return apply(Cast, { x }, { dtype: x.dtype });
}
