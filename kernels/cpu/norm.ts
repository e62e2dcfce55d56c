// RMSNorm forward and backward on the CPU, one row (the last axis) at a time. Statistics are taken in
// float64 — at least the float32 precision HF uses — and, like HF, the normalised value is rounded
// to the input dtype before the weight multiplies it.

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { allocFor } from './shared.js';

/** y = w ⊙ (x · rstd), rstd = 1/√(mean(x²) + eps) per row; aux rstd. */
export const rmsNorm: Kernel<TypedArray, KernelAttrs['rmsNorm']> = ([x, w], { eps }, out) => {
  const C = w.shape[0];
  const rows = C === 0 ? 0 : x.data.length / C;
  const X = x.data;
  const W = w.data;
  const y = allocFor(out.dtype, X.length);
  const rstd = allocArray(out.dtype, rows);
  // One closure with a loop-invariant branch: V8 inlines it. (A variable holding either Math.fround
  // or an identity function is not inlined, and the loop runs 3× slower.)
  const f32 = out.dtype === 'float32';
  const round = (v: number) => (f32 ? Math.fround(v) : v);
  for (let r = 0; r < rows; r++) {
    const base = r * C;
    let ss = 0;
    for (let j = 0; j < C; j++) ss += X[base + j] * X[base + j];
    const inv = 1 / Math.sqrt(ss / C + eps);
    rstd[r] = inv;
    for (let j = 0; j < C; j++) y[base + j] = W[j] * round(X[base + j] * inv);
  }
  return { out: { data: y, shape: out.shape, dtype: out.dtype }, aux: { rstd: { data: rstd, shape: [rows], dtype: out.dtype } } };
};

/**
 * With x̂ = x·rstd and g = dy ⊙ w: dx = rstd·(g − x̂·mean(g ⊙ x̂)) per row, dw = Σ_rows dy ⊙ x̂.
 * Returns [dx | dw] in one buffer.
 */
export const rmsNormBackward: Kernel<TypedArray, KernelAttrs['rmsNormBackward']> = ([x, w, rstd, dy], _attrs, out) => {
  const C = w.shape[0];
  const X = x.data;
  const W = w.data;
  const R = rstd.data;
  const DY = dy.data;
  const n = X.length;
  const packed = allocFor(out.dtype, n + C);
  const dw = new Float64Array(C);
  for (let r = 0; r < R.length; r++) {
    const base = r * C;
    const inv = R[r];
    let dot = 0;
    for (let j = 0; j < C; j++) {
      const xh = X[base + j] * inv;
      dot += DY[base + j] * W[j] * xh;
      dw[j] += DY[base + j] * xh;
    }
    const mean = dot / C;
    for (let j = 0; j < C; j++) packed[base + j] = inv * (DY[base + j] * W[j] - X[base + j] * inv * mean);
  }
  packed.set(dw, n);
  return { data: packed, shape: out.shape, dtype: out.dtype };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const normKernels = { rmsNorm, rmsNormBackward } satisfies Partial<KernelTable<TypedArray>>;
