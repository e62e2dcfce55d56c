// Joining and splitting along an axis: cat (a variadic op: its inputs are x0, x1, ...), stack,
// split and chunk (views made with narrow).

import { apply, type KernelOp } from '../op.js';
import { fmt, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { narrow, unsqueeze } from './views.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** Concatenate the inputs along an axis. */
    cat: { axis: number };
  }
}

/** y = [x0 | x1 | ...] along `axis`; each dxi = the matching slice of dy. */
export const Cat: KernelOp<string, 'cat'> = {
  name: 'cat',
  inputs: [],
  variadic: true,
  shape: (xs, { axis }) => {
    const shapes = Object.values(xs);
    const first = shapes[0];
    for (const s of shapes) {
      const ok = s.length === first.length && s.every((d, i) => i === axis || d === first[i]);
      if (!ok) throw new Error(`cat: shapes ${shapes.map(fmt).join(', ')} differ outside axis ${axis}`);
    }
    return first.map((d, i) => (i === axis ? shapes.reduce((n, s) => n + s[axis], 0) : d));
  },
  backward: (dy, _saved, { axis }, shapes) => {
    const grads: Record<string, () => Tensor> = {};
    let start = 0;
    for (const [name, s] of Object.entries(shapes)) {
      const begin = start;
      grads[name] = () => narrow(dy, axis, begin, s[axis]);
      start += s[axis];
    }
    return grads;
  },
};

export function cat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('cat: needs at least one tensor');
  const a = normalizeAxis('cat', axis, xs[0].ndim);
  const inputs: Record<string, Tensor> = {};
  xs.forEach((x, i) => (inputs[`x${i}`] = x));
  return apply(Cat, inputs, { axis: a });
}

/** Join along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const a = normalizeAxis('stack', axis, xs[0].ndim + 1);
  return cat(
    xs.map((x) => unsqueeze(x, a)),
    a,
  );
}

/** Views of consecutive pieces: all of `size` (the last may be shorter), or of the listed sizes. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normalizeAxis('split', axis, x.ndim);
  const n = x.shape[a];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new Error(`split: size must be a positive integer, got ${sizes}`);
    list = Array.from({ length: Math.max(1, Math.ceil(n / sizes)) }, (_, i) => Math.min(sizes, n - i * sizes));
  } else {
    list = [...sizes];
    if (list.reduce((s, v) => s + v, 0) !== n || list.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new Error(`split: sizes [${list.join(',')}] do not add up to ${n}, the size of axis ${axis} of ${fmt(x.shape)}`);
    }
  }
  let start = 0;
  return list.map((len) => {
    const piece = narrow(x, a, start, len);
    start += len;
    return piece;
  });
}

/** `n` pieces of ceil(size/n) (the last may be shorter, and there may be fewer), as torch.chunk. */
export function chunk(x: Tensor, n: number, axis = 0): Tensor[] {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`chunk: n must be a positive integer, got ${n}`);
  const a = normalizeAxis('chunk', axis, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[a] / n)), a);
}
