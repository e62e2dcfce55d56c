// Ordering: argsort (a stable kernel; ties keep the lower index first), sort and topk. The values are
// a gather by the indices, so they are differentiable (dx scatters dy back to where each came from).

import { apply, type KernelOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { gather } from './indexing.js';
import { numeric } from './util.js';
import { narrow } from './views.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** Stable sort order along an axis (ties keep the lower index first). */
    argsort: { axis: number; descending: boolean };
  }
}

/** Indices that sort x along `axis`; not differentiable (int32). */
export const Argsort: KernelOp<'x', 'argsort'> = {
  name: 'argsort',
  inputs: ['x'],
  shape: ({ x }) => x,
  dtype: ({ x }) => (numeric('argsort', x), 'int32'),
};

export function argsort(x: Tensor, axis = -1, descending = false): Tensor {
  return apply(Argsort, { x }, { axis: normalizeAxis('argsort', axis, x.ndim), descending });
}

export function sort(x: Tensor, axis = -1, descending = false): { values: Tensor; indices: Tensor } {
  const indices = argsort(x, axis, descending);
  return { values: gather(x, axis, indices), indices };
}

/**
 * The k largest (or smallest) entries along `axis`, in order, with their indices. Equal values keep
 * the lower index first — deterministic, which MoE routing relies on.
 */
export function topk(x: Tensor, k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } {
  const a = normalizeAxis('topk', axis, x.ndim);
  if (!Number.isInteger(k) || k < 0 || k > x.shape[a]) {
    throw new Error(`topk: k = ${k} is out of range for axis ${axis} of size ${x.shape[a]}`);
  }
  const indices = narrow(argsort(x, a, largest), a, 0, k).contiguous();
  return { values: gather(x, a, indices), indices };
}
