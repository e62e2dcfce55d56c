// Movement ops: views over the same storage with new shape/strides/offset — no kernel, no copy.
// Broadcasting lives here (`expand`), and so does un-broadcasting (`sumTo`, expand's backward).

import { zeros } from '../creation.js';
import { apply, type ForwardOp, type ViewOp } from '../op.js';
import { contiguousStrides, fmt, normalizeAxis, sizeOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cat } from './join.js';
import { sum } from './reduce.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** The one kernel that reads a strided input (Tensor.toBuf calls it): inputs[0].data is the whole storage. */
    contiguous: { strides: readonly number[]; offset: number };
  }
}

type X = 'x';

/** Resolve one -1 in a target shape and check the element count is kept. */
function inferShape(op: string, from: Shape, to: readonly number[]): number[] {
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1 || to.some((d) => !Number.isInteger(d) || d < -1)) throw new Error(`${op}: invalid shape ${fmt(to)}`);
  const known = sizeOf(to.filter((d) => d !== -1));
  const n = sizeOf(from);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
  if (sizeOf(out) !== n || out.some((d) => !Number.isInteger(d))) {
    throw new Error(`${op}: cannot view ${fmt(from)} (${n} elements) as ${fmt(to)}`);
  }
  return out;
}

/** Same elements, new shape (input must be contiguous; `reshape` copies first when it is not). */
export const Reshape: ViewOp<X, { shape: number[] }> = {
  name: 'reshape',
  inputs: ['x'],
  shape: (_, { shape }) => shape,
  view: (x, { shape }) => ({ strides: contiguousStrides(shape), offset: x.offset }),
  backward: (dy, _saved, _attrs, shapes) => ({ x: () => reshape(dy, shapes.x) }),
};

/** Reorder axes; dx = dy permuted back by the inverse permutation. */
export const Permute: ViewOp<X, { dims: number[] }> = {
  name: 'permute',
  inputs: ['x'],
  shape: ({ x }, { dims }) => dims.map((d) => x[d]),
  view: (x, { dims }) => ({ strides: dims.map((d) => x.strides[d]), offset: x.offset }),
  backward: (dy, _saved, { dims }) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return { x: () => permute(dy, inverse) };
  },
};

/** Broadcast size-1 (or missing leading) axes to `shape` with stride 0; dx = sumTo(dy, x.shape). */
export const Expand: ViewOp<X, { shape: number[] }> = {
  name: 'expand',
  inputs: ['x'],
  shape: ({ x }, { shape }) => {
    const lead = shape.length - x.length;
    const ok = lead >= 0 && x.every((d, i) => d === shape[lead + i] || d === 1);
    if (!ok) throw new Error(`expand: cannot expand ${fmt(x)} to ${fmt(shape)}`);
    return shape;
  },
  view: (x, { shape }) => {
    const lead = shape.length - x.ndim;
    const strides = shape.map((d, i) => (i < lead || x.shape[i - lead] !== d ? 0 : x.strides[i - lead]));
    return { strides, offset: x.offset };
  },
  backward: (dy, _saved, _attrs, shapes) => ({ x: () => sumTo(dy, shapes.x) }),
};

/** Elements [start, start+length) along one axis; dx = dy padded back with zeros. */
export const Narrow: ViewOp<X, { axis: number; start: number; length: number }> = {
  name: 'narrow',
  inputs: ['x'],
  shape: ({ x }, { axis, start, length }) => {
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x[axis]) {
      throw new Error(`narrow: range [${start}, ${start + length}) is outside axis ${axis} of size ${x[axis]} in ${fmt(x)}`);
    }
    return x.map((d, i) => (i === axis ? length : d));
  },
  view: (x, { axis, start }) => ({ strides: x.strides, offset: x.offset + start * x.strides[axis] }),
  backward: (dy, _saved, { axis, start, length }, shapes) => ({
    x: () => {
      const padShape = (n: number) => shapes.x.map((d, i) => (i === axis ? n : d));
      const before = zeros(padShape(start), { dtype: dy.dtype, backend: dy.storage.backend });
      const after = zeros(padShape(shapes.x[axis] - start - length), { dtype: dy.dtype, backend: dy.storage.backend });
      return cat([before, dy, after], axis);
    },
  }),
};

/** Drop size-1 axes; dx = dy reshaped back. */
export const Squeeze: ViewOp<X, { axes: number[] }> = {
  name: 'squeeze',
  inputs: ['x'],
  shape: ({ x }, { axes }) => x.filter((_, i) => !axes.includes(i)),
  view: (x, { axes }) => ({ strides: x.strides.filter((_, i) => !axes.includes(i)), offset: x.offset }),
  backward: (dy, _saved, _attrs, shapes) => ({ x: () => reshape(dy, shapes.x) }),
};

/** Insert a size-1 axis; dx = dy with it squeezed away. */
export const Unsqueeze: ViewOp<X, { axis: number }> = {
  name: 'unsqueeze',
  inputs: ['x'],
  shape: ({ x }, { axis }) => [...x.slice(0, axis), 1, ...x.slice(axis)],
  view: (x, { axis }) => {
    const stride = axis < x.ndim ? x.strides[axis] * x.shape[axis] : 1;
    return { strides: [...x.strides.slice(0, axis), stride, ...x.strides.slice(axis)], offset: x.offset };
  },
  backward: (dy, _saved, { axis }) => ({ x: () => squeeze(dy, axis) }),
};

/** A contiguous copy of a strided view; dx = dy. */
export const Contiguous: ForwardOp<X, Record<string, never>> = {
  name: 'contiguous',
  inputs: ['x'],
  shape: ({ x }) => x,
  forward: ({ x }) => Tensor.fromBuf(x.storage.backend, x.toBuf()),
  backward: (dy) => ({ x: () => dy }),
};

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape('reshape', x.shape, shape);
  return apply(Reshape, { x: x.isContiguous() ? x : contiguous(x) }, { shape: target });
}

/** Like reshape, but refuses to copy: the input must be contiguous. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  if (!x.isContiguous()) {
    throw new Error(
      `view: tensor ${fmt(x.shape)} with strides ${fmt(x.strides)} is not contiguous; use reshape() or contiguous()`,
    );
  }
  return apply(Reshape, { x }, { shape: inferShape('view', x.shape, shape) });
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const d = dims.map((a) => normalizeAxis('permute', a, x.ndim));
  if (d.length !== x.ndim || new Set(d).size !== d.length) {
    throw new Error(`permute: [${dims.join(',')}] is not a permutation of the ${x.ndim} axes of ${fmt(x.shape)}`);
  }
  return apply(Permute, { x }, { dims: d });
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  const dims = x.shape.map((_, i) => i);
  const i = normalizeAxis('transpose', a, x.ndim);
  const j = normalizeAxis('transpose', b, x.ndim);
  [dims[i], dims[j]] = [dims[j], dims[i]];
  return apply(Permute, { x }, { dims });
}

/** Broadcast to `shape`; -1 keeps an existing size. Returns x itself when nothing changes. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (shape.some((d, i) => !Number.isInteger(d) || d < (i >= lead ? -1 : 0))) {
    throw new Error(`expand: invalid target shape ${fmt(shape)} for ${fmt(x.shape)}`);
  }
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  if (target.length === x.ndim && target.every((d, i) => d === x.shape[i])) return x;
  return apply(Expand, { x }, { shape: target });
}

/** Sum a broadcast gradient back down to `shape` (the inverse of expand). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  const lead = x.ndim - shape.length;
  const axes = x.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1));
  if (axes.length === 0) return x;
  return reshape(sum(x, axes, true), shape);
}

export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis('narrow', axis, x.ndim);
  const s = start < 0 ? start + x.shape[a] : start;
  return apply(Narrow, { x }, { axis: a, start: s, length });
}

/** x[..., index, ...] along `axis`, as a view without that axis (torch.select). */
export function select(x: Tensor, axis: number, index: number): Tensor {
  const a = normalizeAxis('select', axis, x.ndim);
  const i = index < 0 ? index + x.shape[a] : index;
  if (!Number.isInteger(i) || i < 0 || i >= x.shape[a])
    throw new Error(`select: index ${index} is out of range for axis ${axis} of size ${x.shape[a]}`);
  return squeeze(narrow(x, a, i, 1), a);
}

/** Python-style x[start:end] along an axis: negative indices count from the end, out-of-range clamps. */
export function slice(x: Tensor, axis: number, start = 0, end?: number): Tensor {
  const a = normalizeAxis('slice', axis, x.ndim);
  const n = x.shape[a];
  const clampIndex = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const lo = clampIndex(start);
  const hi = clampIndex(end ?? n);
  return apply(Narrow, { x }, { axis: a, start: lo, length: Math.max(0, hi - lo) });
}

/** Remove size-1 axes: all of them, or just `axis` (a no-op when its size is not 1, as in PyTorch). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  const axes = axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : [normalizeAxis('squeeze', axis, x.ndim)];
  const ones = axes.filter((i) => x.shape[i] === 1);
  return ones.length === 0 ? x : apply(Squeeze, { x }, { axes: ones });
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  return apply(Unsqueeze, { x }, { axis: normalizeAxis('unsqueeze', axis, x.ndim + 1) });
}

/** Merge axes start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', start, x.ndim);
  const e = normalizeAxis('flatten', end, x.ndim);
  if (s > e) throw new Error(`flatten: start axis ${start} is after end axis ${end}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** A contiguous tensor with x's values: x itself when it already is one. */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : apply(Contiguous, { x }, {});
}
