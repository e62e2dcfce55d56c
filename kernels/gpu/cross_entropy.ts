// Cross-entropy on the GPU without a probability matrix: a row kernel finds each row's logsumexp in one
// streaming pass (online max), a row kernel takes lse − x[target], and a one-thread kernel reduces the
// rows. The backward writes softmax − one-hot straight into dlogits. A kernel cannot throw: a target
// that is neither a class nor ignoreIndex gives a NaN loss here (the CPU backend raises an error).

import { divmod, kernel, launch, NEG, type KernelGroup } from './common.js';

/** Row logsumexp, or 0 for an ignored row (same online pass as softmax's). */
const LSE = kernel(
  'crossEntropyLse',
  `function (x, targets, V, ignoreIndex) {
    const r = this.thread.x;
    if (targets[r] == ignoreIndex) { return 0; }
    const base = r * V;
    let m = ${NEG};
    let s = 0;
    for (let j = 0; j < V; j++) {
      const v = x[base + j];
      if (v > m) { s = s * Math.exp(m - v) + 1; m = v; } else { s = s + Math.exp(v - m); }
    }
    return m + Math.log(s);
  }`,
);

/** Per-row loss lse − x[target]; 0 for ignored rows; NaN (√ of a negative) for a target out of range. */
const LOSS = kernel(
  'crossEntropyLoss',
  `function (x, targets, lse, V, ignoreIndex) {
    const r = this.thread.x;
    const t = targets[r];
    if (t == ignoreIndex) { return 0; }
    if (t < 0 || t >= V) { return Math.sqrt(-1 - Math.abs(lse[r])); }
    return lse[r] - x[r * V + t];
  }`,
);

/** One thread: the sum of the row losses (what = 0) or the number of counted rows (what = 1). */
const TOTAL = kernel(
  'crossEntropyTotal',
  `function (losses, targets, N, ignoreIndex, what) {
    let s = 0;
    for (let r = 0; r < N; r++) {
      if (what > 0) { if (targets[r] != ignoreIndex) { s = s + 1; } } else { s = s + losses[r]; }
    }
    return s;
  }`,
);

const MEAN = kernel('crossEntropyMean', 'function (total, count) { return total[0] / count[0]; }');

/** dlogits[r, j] = g_r·(exp(x − lse_r) − [j = target_r]), 0 on ignored rows; `mode` 0 none, 1 sum, 2 mean. */
const BACKWARD = kernel(
  'crossEntropyBackward',
  `function (x, targets, lse, count, dy, V, ignoreIndex, mode) {
    ${divmod('r', 'j', 'this.thread.x', 'V')}
    const t = targets[r];
    if (t == ignoreIndex) { return 0; }
    let g = dy[0];
    if (mode == 0) { g = dy[r]; }
    if (mode == 2) { g = dy[0] / count[0]; }
    const p = g * Math.exp(x[this.thread.x] - lse[r]);
    return j == t ? p - g : p;
  }`,
);

const MODE = { none: 0, sum: 1, mean: 2 } as const;

export const crossEntropyKernels: KernelGroup = (rt) => ({
  crossEntropy: ([logits, targets], { ignoreIndex, reduction }, out) => {
    const [N, V] = logits!.shape as [number, number];
    const dtype = logits!.dtype;
    const lse = rt.run(LSE, N, [logits!.data, targets!.data, V, ignoreIndex]);
    const losses = rt.run(LOSS, N, [logits!.data, targets!.data, lse, V, ignoreIndex]);
    const count = rt.run(TOTAL, 1, [losses, targets!.data, N, ignoreIndex, 1]);
    let data = losses;
    if (reduction !== 'none') {
      const total = rt.run(TOTAL, 1, [losses, targets!.data, N, ignoreIndex, 0]);
      rt.memory.dispose(losses);
      data = reduction === 'sum' ? total : rt.run(MEAN, 1, [total, count]);
      if (reduction === 'mean') rt.memory.dispose(total);
    }
    const aux = { lse: { data: lse, shape: [N], dtype }, count: { data: count, shape: [], dtype } };
    return { out: { data, shape: out.shape, dtype: out.dtype }, aux };
  },
  crossEntropyBackward: ([logits, targets, lse, count, dy], { ignoreIndex, reduction }, out) => {
    const V = logits!.shape[1]!;
    return launch(rt, BACKWARD, out, [
      logits!.data,
      targets!.data,
      lse!.data,
      count!.data,
      dy!.data,
      V,
      ignoreIndex,
      MODE[reduction],
    ]);
  },
});
