// Stacking tensors that may hold a storage dtype (the experts of a MoE layer loaded as bfloat16 or q8_0):
// core's `stack` refuses storage dtypes (it would gather element by element), but E experts of equal
// shape stored back to back are the stacked tensor, so their stored arrays are concatenated as they are.

import { stack, Tensor } from '../../core/index.js';
import { arrayCtorOf, isStorageDtype, type TypedArray } from '../../core/dtype.js';

/** parts (equal shapes, one dtype) → [parts.length, ...shape]; storage dtypes by concatenating their stored bytes. */
export function stackStored(parts: readonly Tensor[], what: string): Tensor {
  const dtype = parts[0]!.dtype;
  const mixed = parts.find((p) => p.dtype !== dtype);
  if (mixed) throw new Error(`${what}: the parts to stack are ${dtype} and ${mixed.dtype}; a stacked weight has one dtype`);
  if (!isStorageDtype(dtype)) return stack(parts, 0);
  const arrays = parts.map((p) => {
    const buf = p.toBuf();
    return buf.data as TypedArray;
  });
  const out = new (arrayCtorOf(dtype))(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a as never, at);
    at += a.length;
  }
  return Tensor.fromArray(parts[0]!.storage.backend, out, dtype, [parts.length, ...parts[0]!.shape]);
}
