// The AdamW update, fused and in place: one pass over each parameter updates p, m and v together.
// For float32 every intermediate is rounded to float32, as PyTorch's elementwise ops round, so the
// result tracks torch.optim.AdamW (and the golden trajectories) rather than drifting by a float64 ulp.

import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';

/**
 * k = step (1-based): p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * p ← p − (lr/(1 − β1^k))·m/(√v/√(1 − β2^k) + eps). Writes p, m, v in place; returns p.
 */
export const adamw: Kernel<TypedArray, KernelAttrs['adamw']> = ([p, g, m, v], a, out) => {
  const P = p.data;
  const G = g.data;
  const M = m.data;
  const Vv = v.data;
  // A single closure with a loop-invariant branch, so V8 inlines it (see norm.ts).
  const f32 = p.dtype === 'float32';
  const r = (x: number) => (f32 ? Math.fround(x) : x);
  const decay = r(1 - a.lr * a.weightDecay);
  const stepSize = r(a.lr / (1 - a.beta1 ** a.step));
  const bc2Sqrt = r(Math.sqrt(1 - a.beta2 ** a.step));
  const [b1, c1, b2, c2] = [r(a.beta1), r(1 - a.beta1), r(a.beta2), r(1 - a.beta2)];
  for (let i = 0; i < P.length; i++) {
    const gi = G[i];
    const pi = r(P[i] * decay);
    const mi = r(r(b1 * M[i]) + r(c1 * gi));
    const vi = r(r(b2 * Vv[i]) + r(c2 * r(gi * gi)));
    const denom = r(r(Math.sqrt(vi) / bc2Sqrt) + a.eps);
    P[i] = r(pi - r(stepSize * r(mi / denom)));
    M[i] = mi;
    Vv[i] = vi;
  }
  return { data: P, shape: out.shape, dtype: out.dtype };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const adamwKernels = { adamw } satisfies Partial<KernelTable<TypedArray>>;
