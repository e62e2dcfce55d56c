// The AdamW update on the GPU: new p, m and v in three elementwise kernels (each recomputes the moment
// it needs — cheaper than a packed buffer and three copies), then the new buffers replace the old ones
// inside the same device arrays, so the parameter tensors update in place as the kernel contract asks.
// Step-dependent scalars are rounded to float32 on the host, as the CPU kernel rounds them.

import { kernel, type KernelGroup } from './common.js';

/** m ← β1·m + (1 − β1)·g */
const M = kernel('adamwM', 'function (g, m, b1, c1) { const i = this.thread.x; return b1 * m[i] + c1 * g[i]; }');

/** v ← β2·v + (1 − β2)·g² */
const V = kernel(
  'adamwV',
  'function (g, v, b2, c2) { const i = this.thread.x; const gi = g[i]; return b2 * v[i] + c2 * (gi * gi); }',
);

/** p ← p·(1 − lr·wd) − stepSize·m/(√v/√(1 − β2^k) + eps), from the new m and v. */
const P = kernel(
  'adamwP',
  `function (p, m, v, decay, stepSize, bc2Sqrt, eps) {
    const i = this.thread.x;
    const denom = Math.sqrt(v[i]) / bc2Sqrt + eps;
    return p[i] * decay - stepSize * (m[i] / denom);
  }`,
);

export const adamwKernels: KernelGroup = (rt) => ({
  adamw: ([p, g, m, v], a, out) => {
    const r = Math.fround;
    const n = p!.data.length;
    const m1 = rt.run(M, n, [g!.data, m!.data, r(a.beta1), r(1 - a.beta1)]);
    const v1 = rt.run(V, n, [g!.data, v!.data, r(a.beta2), r(1 - a.beta2)]);
    const p1 = rt.run(P, n, [
      p!.data,
      m1,
      v1,
      r(1 - a.lr * a.weightDecay),
      r(a.lr / (1 - a.beta1 ** a.step)),
      r(Math.sqrt(1 - a.beta2 ** a.step)),
      a.eps,
    ]);
    rt.moveInto(p!.data, p1);
    rt.moveInto(m!.data, m1);
    rt.moveInto(v!.data, v1);
    return { data: p!.data, shape: out.shape, dtype: out.dtype };
  },
});
