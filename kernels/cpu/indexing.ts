// Indexing CPU kernels: gather/scatterAdd (index tensor shaped like the output), indexSelect/indexAdd
// (a 1-D index list along one axis) and cat. Indices are int32 and bounds-checked here, because only
// the kernel sees their values: an out-of-range index is an error naming the op, never a silent read.

import { allocArray, isStorageDtype, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { contiguousStrides, sizeOf, splitAt } from '../../core/shape.js';
import { decodeRange } from './storage.js';

type CpuBuf = Buf<TypedArray>;
type Axis = KernelAttrs['gather'];

function checkIndex(op: string, v: number, size: number): number {
  if (v < 0 || v >= size) throw new Error(`${op}: index ${v} is out of range for an axis of size ${size}`);
  return v;
}

/**
 * Walk every element of `index` (shape S, same rank as x) and call `f(indexPos, xPos)` where xPos is
 * the position in x with coordinate `axis` replaced by the index value.
 */
function forEachIndexed(op: string, x: CpuBuf, index: CpuBuf, axis: number, f: (indexPos: number, xPos: number) => void): void {
  const ishape = index.shape;
  const xStrides = contiguousStrides(x.shape);
  const iStrides = contiguousStrides(ishape);
  const size = x.shape[axis];
  const n = sizeOf(ishape);
  for (let p = 0; p < n; p++) {
    let xPos = 0;
    for (let d = 0; d < ishape.length; d++) {
      const coord = Math.floor(p / iStrides[d]) % ishape[d];
      xPos += (d === axis ? checkIndex(op, index.data[p], size) : coord) * xStrides[d];
    }
    f(p, xPos);
  }
}

/** out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis` (torch.gather). */
export const gather: Kernel<TypedArray, Axis> = ([x, index], { axis }, out) => {
  const dst = allocArray(out.dtype, sizeOf(out.shape));
  forEachIndexed('gather', x!, index!, axis, (p, q) => (dst[p] = x!.data[q]));
  return { data: dst, shape: out.shape, dtype: out.dtype };
};

/** out = x; out[..., index[p], ...] += src[p] along `axis` (torch.scatter_add). */
export const scatterAdd: Kernel<TypedArray, Axis> = ([x, index, src], { axis }, out) => {
  const dst = allocArray(out.dtype, x!.data.length);
  dst.set(x!.data);
  forEachIndexed('scatterAdd', x!, index!, axis, (p, q) => (dst[q] += src!.data[p]));
  return { data: dst, shape: out.shape, dtype: out.dtype };
};

/** out = x.narrowed to the rows listed in index, along `axis` (torch.index_select). */
export const indexSelect: Kernel<TypedArray, Axis> = ([x, index], { axis }, out) => {
  const [outer, size, inner] = splitAt(x!.shape, axis);
  const idx = index!.data;
  const dst = allocArray(out.dtype, sizeOf(out.shape));
  const stored = isStorageDtype(x!.dtype) ? x!.dtype : null;
  if ((stored === 'q8_0' || stored === 'q4_0') && axis === x!.shape.length - 1)
    throw new Error(`indexSelect: a ${stored} table is read by whole rows; selecting along its last axis needs .to('float32')`);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      const row = checkIndex('indexSelect', idx[k], size);
      const from = (o * size + row) * inner;
      const at = (o * idx.length + k) * inner;
      // A table kept in a storage dtype (an embedding in bfloat16 or q8_0) has each selected row decoded.
      if (stored) decodeRange(x!.data, stored, from, inner, dst as Float32Array, at);
      else dst.set(x!.data.subarray(from, from + inner), at);
    }
  }
  return { data: dst, shape: out.shape, dtype: out.dtype };
};

/** out = x; out[rows index[k]] += src[k] along `axis` (torch.index_add; repeated indices accumulate). */
export const indexAdd: Kernel<TypedArray, Axis> = ([x, index, src], { axis }, out) => {
  const [outer, size, inner] = splitAt(x!.shape, axis);
  const idx = index!.data;
  const dst = allocArray(out.dtype, x!.data.length);
  dst.set(x!.data);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      const to = (o * size + checkIndex('indexAdd', idx[k], size)) * inner;
      const from = (o * idx.length + k) * inner;
      for (let i = 0; i < inner; i++) dst[to + i] += src!.data[from + i];
    }
  }
  return { data: dst, shape: out.shape, dtype: out.dtype };
};

/** Concatenate along `axis`: each input contributes a block of its own width to every outer row. */
export const cat: Kernel<TypedArray, Axis> = (inputs, { axis }, out) => {
  const [outer, total, inner] = splitAt(out.shape, axis);
  const dst = allocArray(out.dtype, outer * total * inner);
  let start = 0;
  for (const x of inputs) {
    const width = x.shape[axis] * inner;
    for (let o = 0; o < outer; o++) {
      dst.set(x.data.subarray(o * width, (o + 1) * width), o * total * inner + start);
    }
    start += width;
  }
  return { data: dst, shape: out.shape, dtype: out.dtype } satisfies CpuBuf;
};

/** The family's table: gathers, scatters and concatenation along one axis. */
export const indexingKernels = { gather, scatterAdd, indexSelect, indexAdd, cat } satisfies Partial<KernelTable<TypedArray>>;
