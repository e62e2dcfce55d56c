// Single-axis reductions, scans, softmax and argsort on the GPU. The input is viewed as
// [outer, size, inner]; gpu.js has no workgroup memory or barriers, so a reduction is one thread per
// output row looping over `size`, and softmax is a row-statistics kernel (each row's logsumexp,
// found in one pass with an online max) followed by an elementwise apply kernel.

import { splitAt } from '../../core/shape.js';
import { divmod, kernel, launch, NEG, type GpuKernels, type KernelGroup } from './common.js';

/** Thread t → the row (o, i) it reduces and the flat position of that row's first element. */
const ROW = `${divmod('o', 'i', 'this.thread.x', 'inner')}
    const base = o * size * inner + i;`;

const SUM = kernel(
  'sum',
  `function (x, size, inner) {
    ${ROW}
    let s = 0;
    for (let j = 0; j < size; j++) { s = s + x[base + j * inner]; }
    return s;
  }`,
);

/** max/min/argmax/argmin: `cmp` is how a value beats the best so far (strictly, so ties keep the first index). */
const extreme = (name: string, cmp: '>' | '<', index: boolean) =>
  kernel(
    name,
    `function (x, size, inner) {
    ${ROW}
    let best = x[base];
    let at = 0;
    for (let j = 1; j < size; j++) {
      const v = x[base + j * inner];
      if (v ${cmp} best) { best = v; at = j; }
    }
    return ${index ? 'at' : 'best'};
  }`,
  );

/** Thread t → its element's (o, j, i): row (o, i), position j along the axis. */
const ELEMENT = `${divmod('oj', 'i', 'this.thread.x', 'inner')}
    ${divmod('o', 'j', 'oj', 'size')}
    const base = o * size * inner + i;`;

/**
 * Inclusive running sum; `reverse` = 1 sums from the end of the row. (Loop counters start at a
 * literal 0: WGSL cannot increment a counter that starts from a float variable.)
 */
const CUMSUM = kernel(
  'cumsum',
  `function (x, size, inner, reverse) {
    ${ELEMENT}
    let s = 0;
    if (reverse > 0) {
      for (let k1 = 0; k1 < size - j; k1++) { s = s + x[base + (j + k1) * inner]; }
    } else {
      for (let k2 = 0; k2 <= j; k2++) { s = s + x[base + k2 * inner]; }
    }
    return s;
  }`,
);

/**
 * Each row's logsumexp in one pass: a running max m and a running sum s of exp(v − m), rescaled by
 * exp(m_old − m_new) when the max grows, so no exp overflows. (A row of only −∞ gives −∞, and NaN
 * downstream, as on the CPU.)
 */
export const ROW_LSE = kernel(
  'rowLogsumexp',
  `function (x, size, inner) {
    ${ROW}
    let m = ${NEG};
    let s = 0;
    for (let j = 0; j < size; j++) {
      const v = x[base + j * inner];
      if (v > m) { s = s * Math.exp(m - v) + 1; m = v; } else { s = s + Math.exp(v - m); }
    }
    return m + Math.log(s);
  }`,
);

/** softmax = exp(x − lse), logSoftmax = x − lse, for each element against its row's logsumexp. */
const applyLse = (name: string, expr: string) =>
  kernel(
    name,
    `function (x, lse, size, inner) {
    ${ELEMENT}
    const l = lse[o * inner + i];
    const v = x[this.thread.x];
    return ${expr};
  }`,
  );

/**
 * Stable sort, gather-style: each element's rank is the number of row elements that sort before it
 * (smaller, or equal with a lower index; NaN sorts last, as on the CPU), then each output slot finds
 * the element with its rank. O(size²) per row — meant for rows such as top-k over experts.
 */
const RANK = kernel(
  'argsortRank',
  `function (x, size, inner, descending) {
    ${ELEMENT}
    const v = x[this.thread.x];
    const vNan = v != v ? 1 : 0;
    let r = 0;
    for (let k = 0; k < size; k++) {
      const u = x[base + k * inner];
      const uNan = u != u ? 1 : 0;
      let before = 0;
      if (uNan == 1 || vNan == 1) {
        if (uNan == 0 && vNan == 1) { before = 1; }
        if (uNan == vNan && k < j) { before = 1; }
      } else {
        if (descending > 0) { if (u > v) { before = 1; } } else { if (u < v) { before = 1; } }
        if (u == v && k < j) { before = 1; }
      }
      r = r + before;
    }
    return r;
  }`,
);

const BY_RANK = kernel(
  'argsortPick',
  `function (rank, size, inner) {
    ${ELEMENT}
    let at = 0;
    for (let k = 0; k < size; k++) {
      if (rank[base + k * inner] == j) { at = k; }
    }
    return at;
  }`,
);

export const reduceKernels: KernelGroup = (rt): GpuKernels => {
  /** A reduction kernel over the axis: one thread per (outer, inner) row. */
  const reduce =
    (k: ReturnType<typeof kernel>): GpuKernels['sum'] =>
    ([x], { axis }, out) => {
      const [, size, inner] = splitAt(x.shape, axis);
      return launch(rt, k, out, [x.data, size, inner]);
    };
  const softmaxLike =
    (k: ReturnType<typeof kernel>): GpuKernels['softmax'] =>
    ([x], { axis }, out) => {
      const [outer, size, inner] = splitAt(x.shape, axis);
      const lse = rt.run(ROW_LSE, outer * inner, [x.data, size, inner]);
      const y = launch(rt, k, out, [x.data, lse, size, inner]);
      rt.memory.dispose(lse);
      return y;
    };
  return {
    sum: reduce(SUM),
    max: reduce(extreme('max', '>', false)),
    min: reduce(extreme('min', '<', false)),
    argmax: reduce(extreme('argmax', '>', true)),
    argmin: reduce(extreme('argmin', '<', true)),
    cumsum: ([x], { axis, reverse }, out) => {
      const [, size, inner] = splitAt(x.shape, axis);
      return launch(rt, CUMSUM, out, [x.data, size, inner, reverse ? 1 : 0]);
    },
    softmax: softmaxLike(applyLse('softmaxApply', 'Math.exp(v - l)')),
    logSoftmax: softmaxLike(applyLse('logSoftmaxApply', 'v - l')),
    argsort: ([x], { axis, descending }, out) => {
      const [, size, inner] = splitAt(x.shape, axis);
      const rank = rt.run(RANK, x.data.length, [x.data, size, inner, descending ? 1 : 0]);
      const y = launch(rt, BY_RANK, out, [rank, size, inner]);
      rt.memory.dispose(rank);
      return y;
    },
  };
};
