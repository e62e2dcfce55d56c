// Single-axis reductions and scans on the CPU: the input is viewed as [outer, size, inner] and each
// (outer, inner) pair is one independent row. Multi-axis reductions are composed in core/ops/reduce.ts.

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, KernelTable, OutSpec } from '../../core/kernel_types.js';
import { splitAt } from '../../core/shape.js';

type CpuBuf = Buf<TypedArray>;
type Axis = KernelAttrs['sum'];

/**
 * Σ along the axis, accumulated in float64 (a JS number) even for float32 input, so float32 sums are
 * accurate to the last bit. Reducing the last axis sums contiguous rows; any other axis adds whole
 * contiguous [inner] rows into an accumulator, so the memory is still walked in order.
 */
export const sum: Kernel<TypedArray, Axis> = ([x], { axis }, out) => {
  const [outer, size, inner] = splitAt(x.shape, axis);
  const src = x.data;
  const dst = allocArray(out.dtype, outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      for (let j = o * size; j < (o + 1) * size; j++) s += src[j];
      dst[o] = s;
    }
  } else {
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let j = 0; j < size; j++) {
        const row = (o * size + j) * inner;
        for (let i = 0; i < inner; i++) acc[i] += src[row + i];
      }
      dst.set(acc, o * inner);
    }
  }
  return { data: dst, shape: out.shape, dtype: out.dtype };
};

/**
 * The largest (or smallest) value along the axis, or its index. NaN wins, as in PyTorch (`v !== v`
 * is the NaN test); on ties the first index wins.
 */
function extreme(x: CpuBuf, axis: number, out: OutSpec, largest: boolean, index: boolean): CpuBuf {
  const [outer, size, inner] = splitAt(x.shape, axis);
  const src = x.data;
  const dst = allocArray(out.dtype, outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let best = src[base];
      let at = 0;
      for (let j = 1; j < size && best === best; j++) {
        const v = src[base + j * inner];
        if (v !== v || (largest ? v > best : v < best)) {
          best = v;
          at = j;
        }
      }
      dst[o * inner + i] = index ? at : best;
    }
  }
  return { data: dst, shape: out.shape, dtype: out.dtype };
}

export const max: Kernel<TypedArray, Axis> = ([x], { axis }, out) => extreme(x, axis, out, true, false);
export const min: Kernel<TypedArray, Axis> = ([x], { axis }, out) => extreme(x, axis, out, false, false);
export const argmax: Kernel<TypedArray, Axis> = ([x], { axis }, out) => extreme(x, axis, out, true, true);
export const argmin: Kernel<TypedArray, Axis> = ([x], { axis }, out) => extreme(x, axis, out, false, true);

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

/** The family's table: reductions, scans, softmax and sorting along one axis. */
export const reduceKernels = { sum, max, min, argmax, argmin, cumsum, softmax, logSoftmax, argsort } satisfies Partial<
  KernelTable<TypedArray>
>;
