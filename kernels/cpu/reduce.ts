// Single-axis reductions and scans on the CPU: the input is viewed as [outer, size, inner] and each
// (outer, inner) pair is one independent row. Multi-axis reductions are composed in core/ops/reduce.ts.

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, OutSpec } from '../../core/kernel_types.js';
import { splitAt } from '../../core/shape.js';

type CpuBuf = Buf<TypedArray>;
type Axis = KernelAttrs['sum'];

/**
 * Fold each row with `step(acc, value, j)`; `init` starts each row and `finish` maps the final
 * accumulator to the stored value. The accumulator is a JS number (float64) even for float32 input:
 * summing in double keeps float32 sums accurate to the last bit.
 */
function reduceRows(
  x: CpuBuf,
  axis: number,
  out: OutSpec,
  init: () => number[],
  step: (acc: number[], v: number, j: number) => void,
  finish: (acc: number[]) => number,
): CpuBuf {
  const [outer, size, inner] = splitAt(x.shape, axis);
  const src = x.data;
  const dst = allocArray(out.dtype, outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const acc = init();
      const base = o * size * inner + i;
      for (let j = 0; j < size; j++) step(acc, src[base + j * inner], j);
      dst[o * inner + i] = finish(acc);
    }
  }
  return { data: dst, shape: out.shape, dtype: out.dtype };
}

export const sum: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  reduceRows(x!, axis, out, () => [0], (acc, v) => (acc[0] += v), (acc) => acc[0]);

// NaN wins in max/min and argmax/argmin, as in PyTorch: `v !== v` is the NaN test.
const better = (sgn: number) => (v: number, best: number) => v !== v || (best === best && sgn * (v - best) > 0);
const isMax = better(1);
const isMin = better(-1);

export const max: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  reduceRows(x!, axis, out, () => [-Infinity, -1], pick(isMax), (acc) => acc[0]);

export const min: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  reduceRows(x!, axis, out, () => [Infinity, -1], pick(isMin), (acc) => acc[0]);

export const argmax: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  reduceRows(x!, axis, out, () => [-Infinity, -1], pick(isMax), (acc) => acc[1]);

export const argmin: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  reduceRows(x!, axis, out, () => [Infinity, -1], pick(isMin), (acc) => acc[1]);

/** acc = [best value, its index]; the first index wins ties. */
function pick(isBetter: (v: number, best: number) => boolean) {
  return (acc: number[], v: number, j: number) => {
    if (acc[1] === -1 || isBetter(v, acc[0])) {
      acc[0] = v;
      acc[1] = j;
    }
  };
}

/** Row-wise transform: `f` reads a row (strided by `inner`) and writes the output row. */
function mapRows(
  x: CpuBuf,
  axis: number,
  outDtype: CpuBuf['dtype'],
  f: (src: TypedArray, dst: TypedArray, base: number, size: number, inner: number) => void,
): CpuBuf {
  const [outer, size, inner] = splitAt(x.shape, axis);
  const dst = allocArray(outDtype, x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) f(x.data, dst, o * size * inner + i, size, inner);
  }
  return { data: dst, shape: x.shape, dtype: outDtype };
}

export const cumsum: Kernel<TypedArray, KernelAttrs['cumsum']> = ([x], { axis, reverse }, out) =>
  mapRows(x!, axis, out.dtype, (src, dst, base, size, inner) => {
    let acc = 0;
    for (let k = 0; k < size; k++) {
      const j = reverse ? size - 1 - k : k;
      acc += src[base + j * inner];
      dst[base + j * inner] = acc;
    }
  });

/** Largest element of a row; subtracting it before exp keeps exp ≤ 1, so nothing overflows. */
function rowMax(src: TypedArray, base: number, size: number, inner: number): number {
  let m = -Infinity;
  for (let j = 0; j < size; j++) m = Math.max(m, src[base + j * inner]);
  // For a row of all -inf, (-inf) - (-inf) would be NaN; shifting by 0 keeps exp(-inf) = 0.
  return m === -Infinity ? 0 : m;
}

export const softmax: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  mapRows(x!, axis, out.dtype, (src, dst, base, size, inner) => {
    const m = rowMax(src, base, size, inner);
    let total = 0;
    for (let j = 0; j < size; j++) total += Math.exp(src[base + j * inner] - m);
    for (let j = 0; j < size; j++) dst[base + j * inner] = Math.exp(src[base + j * inner] - m) / total;
  });

export const logSoftmax: Kernel<TypedArray, Axis> = ([x], { axis }, out) =>
  mapRows(x!, axis, out.dtype, (src, dst, base, size, inner) => {
    const m = rowMax(src, base, size, inner);
    let total = 0;
    for (let j = 0; j < size; j++) total += Math.exp(src[base + j * inner] - m);
    const lse = m + Math.log(total);
    for (let j = 0; j < size; j++) dst[base + j * inner] = src[base + j * inner] - lse;
  });

/** Stable argsort along an axis; NaN sorts as the largest value (as in PyTorch). */
export const argsort: Kernel<TypedArray, KernelAttrs['argsort']> = ([x], { axis, descending }, out) =>
  mapRows(x!, axis, out.dtype, (src, dst, base, size, inner) => {
    const order = Array.from({ length: size }, (_, j) => j);
    const key = (j: number) => src[base + j * inner];
    const cmp = (a: number, b: number) => {
      const va = key(a);
      const vb = key(b);
      const c = va !== va ? (vb !== vb ? 0 : 1) : vb !== vb ? -1 : va < vb ? -1 : va > vb ? 1 : 0;
      return (descending ? -c : c) || a - b;
    };
    order.sort(cmp);
    for (let j = 0; j < size; j++) dst[base + j * inner] = order[j];
  });
