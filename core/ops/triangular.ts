// Lower/upper triangles of the last two axes: a mask from index comparisons, then `where`, so the
// gradient is dy on the kept triangle and 0 elsewhere without a kernel of its own.

import { arange } from '../creation.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';

/** Mask [R, C]: true where column − row ≤ k (lower) or ≥ k (upper). */
function triangleMask(op: string, x: Tensor, k: number, lower: boolean): Tensor {
  if (x.ndim < 2) throw new Error(`${op}: expects at least 2 dimensions, got ${fmt(x.shape)}`);
  if (!Number.isInteger(k)) throw new Error(`${op}: diagonal offset must be an integer, got ${k}`);
  const backend = x.storage.backend;
  const rows = arange(x.shape.at(-2)!, undefined, 1, { backend }).unsqueeze(1);
  const cols = arange(x.shape.at(-1)!, undefined, 1, { backend }).unsqueeze(0);
  const offset = cols.sub(rows);
  return lower ? offset.le(k) : offset.ge(k);
}

/** Keep the elements on and below the k-th diagonal; zero the rest. */
export function tril(x: Tensor, k = 0): Tensor {
  return where(triangleMask('tril', x, k, true), x, 0);
}

/** Keep the elements on and above the k-th diagonal; zero the rest. */
export function triu(x: Tensor, k = 0): Tensor {
  return where(triangleMask('triu', x, k, false), x, 0);
}
