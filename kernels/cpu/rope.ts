// Rotary position embedding on the CPU, HF's half-split layout: the first and second halves of each
// head vector form the (real, imaginary) pairs. x is [B, NH, T, HS]; cos/sin are [T, HS] (shared by
// the batch) or [B, T, HS], each half a copy of the other as HF builds them.

import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { allocFor } from './shared.js';

/**
 * out[:h] = x[:h]·cos − x[h:]·sin, out[h:] = x[h:]·cos + x[:h]·sin (h = HS/2), i.e. x·cos + rotate_half(x)·sin.
 * `inverse` negates sin: the transpose of the rotation, which is its backward.
 */
export const rope: Kernel<TypedArray, KernelAttrs['rope']> = ([x, cos, sin], { inverse }, out) => {
  const [B, NH, T, HS] = x.shape;
  const half = HS / 2;
  const X = x.data;
  const COS = cos.data;
  const SIN = sin.data;
  const sign = inverse ? -1 : 1;
  const perBatch = cos.shape.length === 3;
  const y = allocFor(out.dtype, X.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const base = ((b * NH + h) * T + t) * HS;
        const tab = ((perBatch ? b * T : 0) + t) * HS;
        for (let d = 0; d < half; d++) {
          const x1 = X[base + d];
          const x2 = X[base + d + half];
          y[base + d] = x1 * COS[tab + d] - sign * x2 * SIN[tab + d];
          y[base + d + half] = x2 * COS[tab + d + half] + sign * x1 * SIN[tab + d + half];
        }
      }
    }
  }
  return { data: y, shape: out.shape, dtype: out.dtype };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const ropeKernels = { rope } satisfies Partial<KernelTable<TypedArray>>;
