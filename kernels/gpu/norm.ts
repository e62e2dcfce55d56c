// RMSNorm forward and backward on the GPU: a row-statistics kernel (rstd, or the backward's row dot
// product) and an elementwise kernel that applies it. Statistics accumulate in float32 (the CPU uses
// float64; HF computes them in float32).

import { sizeOf } from '../../core/shape.js';
import { divmod, kernel, launch, type KernelGroup } from './common.js';

/** rstd = 1/√(mean(x²) + eps) per row of C. */
const RSTD = kernel(
  'rmsNormRstd',
  `function (x, C, eps) {
    const base = this.thread.x * C;
    let ss = 0;
    for (let j = 0; j < C; j++) { const v = x[base + j]; ss = ss + v * v; }
    return 1 / Math.sqrt(ss / C + eps);
  }`,
);

/** y = w ⊙ (x · rstd). */
const APPLY = kernel(
  'rmsNormApply',
  `function (x, w, rstd, C) {
    ${divmod('r', 'j', 'this.thread.x', 'C')}
    return w[j] * (x[this.thread.x] * rstd[r]);
  }`,
);

/** Per row: Σ_j dy·w·x̂ with x̂ = x·rstd (the backward's mean term, times C). */
const ROW_DOT = kernel(
  'rmsNormRowDot',
  `function (x, w, rstd, dy, C) {
    const base = this.thread.x * C;
    const inv = rstd[this.thread.x];
    let dot = 0;
    for (let j = 0; j < C; j++) { dot = dot + dy[base + j] * w[j] * x[base + j] * inv; }
    return dot;
  }`,
);

/**
 * [dx | dw] packed: thread t < n gives dx = rstd·(dy·w − x̂·dot/C) for its element; thread n + j
 * gives dw_j = Σ_rows dy·x̂ down column j.
 */
const BACKWARD = kernel(
  'rmsNormBackward',
  `function (x, w, rstd, dy, dot, C, n, rows) {
    const t = this.thread.x;
    if (t < n) {
      ${divmod('r', 'j', 't', 'C')}
      const inv = rstd[r];
      return inv * (dy[t] * w[j] - x[t] * inv * dot[r] / C);
    }
    const col = t - n;
    let s = 0;
    for (let r2 = 0; r2 < rows; r2++) { s = s + dy[r2 * C + col] * x[r2 * C + col] * rstd[r2]; }
    return s;
  }`,
);

export const normKernels: KernelGroup = (rt) => ({
  rmsNorm: ([x, w], { eps }, out) => {
    const C = w!.shape[0]!;
    const rows = C === 0 ? 0 : sizeOf(x!.shape) / C;
    const rstd = rt.run(RSTD, rows, [x!.data, C, eps]);
    const y = launch(rt, APPLY, out, [x!.data, w!.data, rstd, C]);
    return { out: y, aux: { rstd: { data: rstd, shape: [rows], dtype: out.dtype } } };
  },
  rmsNormBackward: ([x, w, rstd, dy], _attrs, out) => {
    const C = w!.shape[0]!;
    const n = sizeOf(x!.shape);
    const rows = rstd!.shape[0]!;
    const dot = rt.run(ROW_DOT, rows, [x!.data, w!.data, rstd!.data, dy!.data, C]);
    const packed = launch(rt, BACKWARD, out, [x!.data, w!.data, rstd!.data, dy!.data, dot, C, n, rows]);
    rt.memory.dispose(dot);
    return packed;
  },
});
