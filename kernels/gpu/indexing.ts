// Indexing on the GPU: gather/scatterAdd (an index tensor shaped like the output), indexSelect/indexAdd
// (a 1-D index list along one axis) and cat. Every kernel is gather-style — each thread computes its
// own output element — because gpu.js has no atomics: a scatter becomes, per output element, a loop
// over the indices that could land on it. Kernels cannot throw, so an index out of range gives NaN
// instead of the CPU backend's error (and never reads outside an array).

import { contiguousStrides, sizeOf, splitAt } from '../../core/shape.js';
import { divmod, hostArray, kernel, launch, type GpuBuf, type KernelGroup } from './common.js';

/**
 * out[p] = x at p's coordinates (by the index shape) with coordinate `axis` replaced by index[p].
 * `ishape`/`xstrides` are small host arrays; `rank` ≥ 1.
 */
const GATHER = kernel(
  'gather',
  `function (x, index, ishape, xstrides, rank, axis, size, bad) {
    let rem = this.thread.x;
    let pos = 0;
    let ok = 1;
    for (let k = 0; k < rank; k++) {
      const d = rank - 1 - k;
      const n = ishape[d];
      ${divmod('q', 'c', 'rem', 'n')}
      if (d == axis) {
        const v = index[this.thread.x];
        if (v < 0 || v >= size) { ok = 0; }
        pos = pos + v * xstrides[d];
      } else {
        pos = pos + c * xstrides[d];
      }
      rem = q;
    }
    if (ok == 0) { return bad; }
    return x[pos];
  }`,
);

/**
 * out[q] = x[q] + Σ src[p] over index positions p that share q's other coordinates (those within the
 * index shape) and whose index value is q's coordinate along `axis`.
 */
const SCATTER_ADD = kernel(
  'scatterAdd',
  `function (x, index, src, xshape, ishape, istrides, rank, axis, bad) {
    let rem = this.thread.x;
    let base = 0;
    let target = 0;
    let inside = 1;
    for (let k = 0; k < rank; k++) {
      const d = rank - 1 - k;
      const n = xshape[d];
      ${divmod('q', 'c', 'rem', 'n')}
      if (d == axis) { target = c; } else {
        if (c >= ishape[d]) { inside = 0; }
        base = base + c * istrides[d];
      }
      rem = q;
    }
    let s = x[this.thread.x];
    if (inside == 1) {
      const count = ishape[axis];
      const step = istrides[axis];
      for (let j = 0; j < count; j++) {
        const v = index[base + j * step];
        if (v < 0 || v >= xshape[axis]) { s = bad; }
        if (v == target) { s = s + src[base + j * step]; }
      }
    }
    return s;
  }`,
);

/** out[o, k, i] = x[o, index[k], i]. */
const INDEX_SELECT = kernel(
  'indexSelect',
  `function (x, index, K, size, inner, bad) {
    ${divmod('ok', 'i', 'this.thread.x', 'inner')}
    ${divmod('o', 'k', 'ok', 'K')}
    const row = index[k];
    if (row < 0 || row >= size) { return bad; }
    return x[(o * size + row) * inner + i];
  }`,
);

/** out[o, r, i] = x[o, r, i] + Σ_{k: index[k] = r} src[o, k, i]. */
const INDEX_ADD = kernel(
  'indexAdd',
  `function (x, index, src, K, size, inner, bad) {
    ${divmod('or', 'i', 'this.thread.x', 'inner')}
    ${divmod('o', 'r', 'or', 'size')}
    let s = x[this.thread.x];
    for (let k = 0; k < K; k++) {
      const v = index[k];
      if (v < 0 || v >= size) { s = bad; }
      if (v == r) { s = s + src[(o * K + k) * inner + i]; }
    }
    return s;
  }`,
);

/** Two arrays side by side along an axis, each viewed as [outer, width]. */
export const CAT2 = kernel(
  'cat',
  `function (a, b, wa, wb) {
    ${divmod('o', 'c', 'this.thread.x', 'wa + wb')}
    return c < wa ? a[o * wa + c] : b[o * wb + c - wa];
  }`,
);

export const indexingKernels: KernelGroup = (rt) => ({
  gather: ([x, index], { axis }, out) =>
    launch(rt, GATHER, out, [
      x!.data,
      index!.data,
      hostArray(index!.shape),
      hostArray(contiguousStrides(x!.shape)),
      index!.shape.length,
      axis,
      x!.shape[axis]!,
      NaN,
    ]),
  scatterAdd: ([x, index, src], { axis }, out) =>
    launch(rt, SCATTER_ADD, out, [
      x!.data,
      index!.data,
      src!.data,
      hostArray(x!.shape),
      hostArray(index!.shape),
      hostArray(contiguousStrides(index!.shape)),
      x!.shape.length,
      axis,
      NaN,
    ]),
  indexSelect: ([x, index], { axis }, out) => {
    const [, size, inner] = splitAt(x!.shape, axis);
    return launch(rt, INDEX_SELECT, out, [x!.data, index!.data, index!.data.length, size, inner, NaN]);
  },
  indexAdd: ([x, index, src], { axis }, out) => {
    const [, size, inner] = splitAt(x!.shape, axis);
    return launch(rt, INDEX_ADD, out, [x!.data, index!.data, src!.data, index!.data.length, size, inner, NaN]);
  },
  cat: (inputs, { axis }, out) => {
    // Folded pairwise: [x0 | x1], then [x0 x1 | x2], ... (each step copies what came before once more).
    const [outer] = splitAt(out.shape, axis);
    const inner = sizeOf(out.shape.slice(axis + 1));
    let acc: GpuBuf | null = null;
    let width = 0;
    for (const x of inputs) {
      const w = x.shape[axis]! * inner;
      const next = { shape: [outer * (width + w)], dtype: out.dtype };
      const prev: GpuBuf['data'] = acc ? acc.data : rt.empty;
      const made = launch(rt, CAT2, next, [prev, x.data, width, w]);
      if (acc) rt.memory.dispose(acc.data);
      acc = made;
      width += w;
    }
    return { data: acc ? acc.data : rt.alloc(0), shape: out.shape, dtype: out.dtype };
  },
});
