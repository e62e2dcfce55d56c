// Gathering and scattering by integer index: gather/scatterAdd (torch semantics, index shaped like
// the output), indexSelect/indexAdd (a 1-D list of rows along one axis), embedding and oneHot.
// Each gather's backward is the matching scatter-add, and vice versa.

import { ones, zeros } from '../creation.js';
import { isStorageDtype, type DType } from '../dtype.js';
import { apply, type KernelOp } from '../op.js';
import { fmt, normalizeAxis, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { reshape, unsqueeze } from './views.js';

declare module '../kernel_types.js' {
  /** Indexing along an axis; index buffers are int32. */
  interface KernelAttrs {
    gather: { axis: number };
    scatterAdd: { axis: number };
    indexSelect: { axis: number };
    indexAdd: { axis: number };
  }
}

function checkIndexDtype(op: string, index: DType): void {
  if (index !== 'int32') throw new Error(`${op}: index must be int32, got ${index}`);
}

function zerosOf(shape: Shape, like: Tensor): Tensor {
  return zeros(shape, { dtype: like.dtype, backend: like.storage.backend });
}

/** y[...i...] = x[...index[...i...]...] along `axis`; dx = scatterAdd(0, index, dy). */
export const Gather: KernelOp<'x' | 'index', 'gather'> = {
  name: 'gather',
  inputs: ['x', 'index'],
  save: ['index'],
  shape: ({ x, index }, { axis }) => {
    const ok = index.length === x.length && index.every((d, i) => i === axis || d <= x[i]);
    if (!ok) throw new Error(`gather: index ${fmt(index)} does not fit x ${fmt(x)} along axis ${axis}`);
    return index;
  },
  dtype: ({ x, index }) => (checkIndexDtype('gather', index), x),
  backward: (dy, { index }, { axis }, shapes) => ({
    x: () => scatterAdd(zerosOf(shapes.x, dy), axis, index, dy),
  }),
};

/** y = x, then y[...index[p]...] += src[p] along `axis`; dx = dy, dsrc = gather(dy, index). */
export const ScatterAdd: KernelOp<'x' | 'index' | 'src', 'scatterAdd'> = {
  name: 'scatterAdd',
  inputs: ['x', 'index', 'src'],
  save: ['index'],
  shape: ({ x, index, src }, { axis }) => {
    const ok = index.length === x.length && fmt(index) === fmt(src) && index.every((d, i) => i === axis || d <= x[i]);
    if (!ok) throw new Error(`scatterAdd: x ${fmt(x)}, index ${fmt(index)} and src ${fmt(src)} do not fit along axis ${axis}`);
    return x;
  },
  dtype: ({ x, index, src }) => {
    checkIndexDtype('scatterAdd', index);
    if (x !== src) throw new Error(`scatterAdd: dtype mismatch: x is ${x}, src is ${src}`);
    return x;
  },
  backward: (dy, { index }, { axis }) => ({ x: () => dy, src: () => gather(dy, axis, index) }),
};

/** y = the rows of x listed in a 1-D index, along `axis`; dx = indexAdd(0, index, dy). */
export const IndexSelect: KernelOp<'x' | 'index', 'indexSelect'> = {
  name: 'indexSelect',
  inputs: ['x', 'index'],
  // The embedding table may be kept as stored: its selected rows come out float32.
  storageInputs: ['x'],
  save: ['index'],
  shape: ({ x, index }, { axis }) => {
    if (index.length !== 1) throw new Error(`indexSelect: index must be 1-D, got ${fmt(index)}`);
    return x.map((d, i) => (i === axis ? index[0] : d));
  },
  dtype: ({ x, index }) => (checkIndexDtype('indexSelect', index), isStorageDtype(x) ? 'float32' : x),
  backward: (dy, { index }, { axis }, shapes) => ({ x: () => indexAdd(zerosOf(shapes.x, dy), axis, index, dy) }),
};

/** y = x, then y[index[k]] += src[k] along `axis` (repeats accumulate); dx = dy, dsrc = indexSelect(dy). */
export const IndexAdd: KernelOp<'x' | 'index' | 'src', 'indexAdd'> = {
  name: 'indexAdd',
  inputs: ['x', 'index', 'src'],
  save: ['index'],
  shape: ({ x, index, src }, { axis }) => {
    const want = x.map((d, i) => (i === axis ? index[0] : d));
    if (index.length !== 1 || fmt(src) !== fmt(want)) {
      throw new Error(`indexAdd: x ${fmt(x)}, index ${fmt(index)} and src ${fmt(src)} do not fit along axis ${axis}`);
    }
    return x;
  },
  dtype: ({ x, index, src }) => {
    checkIndexDtype('indexAdd', index);
    if (x !== src) throw new Error(`indexAdd: dtype mismatch: x is ${x}, src is ${src}`);
    return x;
  },
  backward: (dy, { index }, { axis }) => ({ x: () => dy, src: () => indexSelect(dy, axis, index) }),
};

export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  return apply(Gather, { x, index }, { axis: normalizeAxis('gather', axis, x.ndim) });
}

export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return apply(ScatterAdd, { x, index, src }, { axis: normalizeAxis('scatterAdd', axis, x.ndim) });
}

export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  return apply(IndexSelect, { x, index }, { axis: normalizeAxis('indexSelect', axis, x.ndim) });
}

export function indexAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return apply(IndexAdd, { x, index, src }, { axis: normalizeAxis('indexAdd', axis, x.ndim) });
}

/** Rows of `weight` [V, C] for integer `ids` of any shape: [...ids.shape, C]. */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be [V, C], got ${fmt(weight.shape)}`);
  const rows = indexSelect(weight, 0, reshape(ids, [ids.numel()]));
  return reshape(rows, [...ids.shape, weight.shape[1]]);
}

/** [...shape, n] with a 1 at each index (int32 by default, as torch's int64); indices must be in [0, n). */
export function oneHot(indices: Tensor, numClasses: number, opts: { dtype?: DType } = {}): Tensor {
  if (!Number.isInteger(numClasses) || numClasses <= 0)
    throw new Error(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const dtype = opts.dtype ?? 'int32';
  const backend = indices.storage.backend;
  const where = unsqueeze(indices, -1);
  const base = zeros([...indices.shape, numClasses], { dtype, backend });
  return scatterAdd(base, -1, where, ones(where.shape, { dtype, backend }));
}
