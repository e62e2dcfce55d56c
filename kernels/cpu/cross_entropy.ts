// Cross-entropy on the CPU without a probability matrix: each row's logsumexp is found in one
// streaming pass with an online max (the running sum is rescaled whenever the max grows), so the
// forward keeps only lse [N]. The backward writes softmax − one-hot straight into dlogits.

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { allocFor } from './shared.js';

/** Per-row loss lse − x[target] (0 for ignored rows), reduced by mean (over valid rows), sum or none. */
export const crossEntropy: Kernel<TypedArray, KernelAttrs['crossEntropy']> = (
  [logits, targets],
  { ignoreIndex, reduction },
  out,
) => {
  const [N, V] = logits.shape;
  const X = logits.data;
  const T = targets.data;
  const lse = allocArray(logits.dtype, N);
  const losses = allocArray(logits.dtype, N);
  let total = 0;
  let count = 0;
  for (let r = 0; r < N; r++) {
    const t = T[r];
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= V)
      throw new Error(`crossEntropy: target ${t} in row ${r} is neither a class in [0, ${V}) nor ignoreIndex ${ignoreIndex}`);
    const base = r * V;
    let m = -Infinity;
    let s = 0;
    for (let j = 0; j < V; j++) {
      const v = X[base + j];
      if (v > m) {
        s = s * Math.exp(m - v) + 1;
        m = v;
      } else {
        s += Math.exp(v - m);
      }
    }
    lse[r] = m + Math.log(s);
    losses[r] = lse[r] - X[base + t];
    total += losses[r];
    count++;
  }
  const data = reduction === 'none' ? losses : allocArray(logits.dtype, 1).fill(reduction === 'sum' ? total : total / count);
  const aux = {
    lse: { data: lse, shape: [N], dtype: logits.dtype },
    count: { data: allocArray(logits.dtype, 1).fill(count), shape: [], dtype: logits.dtype },
  };
  return { out: { data, shape: out.shape, dtype: out.dtype }, aux };
};

/** dlogits[r, j] = g_r·(exp(x[r, j] − lse_r) − [j = target_r]), g_r = dy/count, dy or dy_r; 0 on ignored rows. */
export const crossEntropyBackward: Kernel<TypedArray, KernelAttrs['crossEntropyBackward']> = (
  [logits, targets, lse, count, dy],
  { ignoreIndex, reduction },
  out,
) => {
  const [N, V] = logits.shape;
  const X = logits.data;
  const grad = allocFor(out.dtype, N * V);
  for (let r = 0; r < N; r++) {
    const t = targets.data[r];
    if (t === ignoreIndex) continue;
    const g = reduction === 'none' ? dy.data[r] : reduction === 'sum' ? dy.data[0] : dy.data[0] / count.data[0];
    const base = r * V;
    const l = lse.data[r];
    for (let j = 0; j < V; j++) grad[base + j] = g * Math.exp(X[base + j] - l);
    grad[base + t] -= g;
  }
  return { data: grad, shape: out.shape, dtype: out.dtype };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const crossEntropyKernels = { crossEntropy, crossEntropyBackward } satisfies Partial<KernelTable<TypedArray>>;
