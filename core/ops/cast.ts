// Dtype conversion. `cast` always writes a fresh buffer, which is also how `clone` copies. Storage dtypes
// (bfloat16, float16, q8_0, q4_0) convert to and from float32/float64 here, as `.to(dtype)`.

import { isFloating, isStorageDtype, storageLength, type DType } from '../dtype.js';
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
  storageInputs: ['x'],
  shape: ({ x }, { dtype }) => {
    // Refuses a shape q8_0/q4_0 cannot hold (a last axis that is not a multiple of 32) before any work.
    if (isStorageDtype(dtype)) storageLength(dtype, x);
    return x;
  },
  dtype: ({ x }, { dtype }) => {
    const storage = isStorageDtype(x) || isStorageDtype(dtype);
    const ok = x === dtype || isFloating(x) || isFloating(dtype) || (isStorageDtype(x) && isStorageDtype(dtype));
    if (storage && !ok)
      throw new Error(`cast: ${x} → ${dtype}: storage dtypes convert to and from float32 or float64; go through .to('float32')`);
    return dtype;
  },
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
