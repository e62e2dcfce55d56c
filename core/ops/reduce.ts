// Reductions over one axis, several axes or all: sum, mean, max, min, argmax, argmin, logsumexp,
// var, norm; and the cumsum scan. Kernels reduce one axis at a time; several axes are a chain of
// single-axis ops, each with its own (simple) backward.

import { apply, type ForwardOp, type KernelOp } from '../op.js';
import { fmt, normalizeAxes, normalizeAxis, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';
import { floating, numeric } from './util.js';
import { expand, reshape, unsqueeze } from './views.js';

declare module '../kernel_types.js' {
  /** Single-axis reductions and scans: the input is viewed as [outer, size, inner]. */
  interface KernelAttrs {
    sum: { axis: number };
    max: { axis: number };
    min: { axis: number };
    argmax: { axis: number };
    argmin: { axis: number };
    cumsum: { axis: number; reverse: boolean };
  }
}

type X = 'x';
type AxisAttrs = { axis: number; keepdim: boolean };
type Axes = number | readonly number[];

function reducedShape(op: string, x: Shape, { axis, keepdim }: AxisAttrs, allowEmpty: boolean): Shape {
  if (!allowEmpty && x[axis] === 0) throw new Error(`${op}: cannot reduce over the empty axis ${axis} of ${fmt(x)}`);
  return keepdim ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis);
}

/** dy of a reduction, with the reduced axis restored as size 1 and broadcast back over it. */
function spread(dy: Tensor, { axis, keepdim }: AxisAttrs, x: Shape): Tensor {
  return expand(keepdim ? dy : unsqueeze(dy, axis), x);
}

/** y = Σ x along an axis; dx = dy broadcast back along it. */
export const Sum: KernelOp<X, 'sum', AxisAttrs> = {
  name: 'sum',
  inputs: ['x'],
  shape: ({ x }, a) => reducedShape('sum', x, a, true),
  dtype: ({ x }) => numeric('sum', x),
  backward: (dy, _saved, a, shapes) => ({ x: () => spread(dy, a, shapes.x) }),
};

/** y = max/min along an axis; dx = dy shared evenly among the positions that attain it. */
function extremum<K extends 'max' | 'min'>(name: K): KernelOp<X, K, AxisAttrs> {
  return {
    name,
    inputs: ['x'],
    shape: ({ x }, a) => reducedShape(name, x, a, false),
    dtype: ({ x }) => numeric(name, x),
    save: ['x', 'out'],
    backward: (dy, { x, out }, a) => ({
      x: () => {
        const hit = x.eq(spread(out, a, x.shape));
        const count = hit.to(x.dtype).sum(a.axis, true);
        return where(hit, spread(dy, a, x.shape).div(expand(count, x.shape)), 0);
      },
    }),
  };
}
export const Max = extremum('max');
export const Min = extremum('min');

function argOp<K extends 'argmax' | 'argmin'>(name: K): KernelOp<X, K, AxisAttrs> {
  return {
    name,
    inputs: ['x'],
    shape: ({ x }, a) => reducedShape(name, x, a, false),
    dtype: ({ x }) => (numeric(name, x), 'int32'),
  };
}
export const Argmax = argOp('argmax');
export const Argmin = argOp('argmin');

/** y_i = Σ_{j≤i} x_j (or j ≥ i when reversed); dx = the reverse scan of dy. */
export const Cumsum: KernelOp<X, 'cumsum'> = {
  name: 'cumsum',
  inputs: ['x'],
  shape: ({ x }) => x,
  dtype: ({ x }) => numeric('cumsum', x),
  backward: (dy, _saved, { axis, reverse }) => ({ x: () => apply(Cumsum, { x: dy }, { axis, reverse: !reverse }) }),
};

/**
 * y = √(Σ x²) over the axes; dx = dy·x/y, and 0 where y = 0 (the subgradient PyTorch uses —
 * composing sqrt and square would give 0·∞ = NaN there, which is why this is its own op).
 */
export const Norm: ForwardOp<X, { axes: number[] | null; keepdim: boolean }> = {
  name: 'norm',
  inputs: ['x'],
  shape: ({ x }, { axes, keepdim }) => reduceShapeAll(x, axes, keepdim),
  dtype: floating('norm'),
  save: ['x', 'out'],
  forward: ({ x }, { axes, keepdim }) => sum(x.square(), axes ?? undefined, keepdim).sqrt(),
  backward: (dy, { x, out }, { axes, keepdim }) => ({
    x: () => {
      const all = axes ?? x.shape.map((_, i) => i);
      const restore = (t: Tensor) => expand(keepdim ? t : reshape(t, reduceShapeAll(x.shape, all, true)), x.shape);
      const n = restore(out);
      return where(n.eq(0), 0, x.div(n)).mul(restore(dy));
    },
  }),
};

function reduceShapeAll(x: Shape, axes: readonly number[] | null, keepdim: boolean): Shape {
  const all = axes ?? x.map((_, i) => i);
  return keepdim ? x.map((d, i) => (all.includes(i) ? 1 : d)) : x.filter((_, i) => !all.includes(i));
}

/** The axes a reduction covers, normalised; every axis when `axis` is omitted. */
function resolveAxes(op: string, x: Tensor, axis: Axes | undefined): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  return normalizeAxes(op, typeof axis === 'number' ? [axis] : axis, x.ndim);
}

/**
 * Apply a single-axis reduction over `axis` (one, several, or all when undefined). A full
 * reduction flattens first, so it is one kernel call and its result is 0-d, as in PyTorch.
 */
function reduceAxes(
  op: KernelOp<X, 'sum' | 'max' | 'min', AxisAttrs>,
  x: Tensor,
  axis: Axes | undefined,
  keepdim: boolean,
): Tensor {
  if (axis === undefined && !keepdim) return apply(op, { x: reshape(x, [x.numel()]) }, { axis: 0, keepdim: false });
  const axes = resolveAxes(op.name, x, axis);
  let y = x;
  for (const a of axes) y = apply(op, { x: y }, { axis: a, keepdim: true });
  return keepdim
    ? y
    : reshape(
        y,
        x.shape.filter((_, i) => !axes.includes(i)),
      );
}

function countOver(op: string, x: Tensor, axis: Axes | undefined): number {
  return sizeOf(resolveAxes(op, x, axis).map((a) => x.shape[a]));
}

export const sum = (x: Tensor, axis?: Axes, keepdim = false) => reduceAxes(Sum, x, axis, keepdim);
export const max = (x: Tensor, axis?: Axes, keepdim = false) => reduceAxes(Max, x, axis, keepdim);
export const min = (x: Tensor, axis?: Axes, keepdim = false) => reduceAxes(Min, x, axis, keepdim);

export function mean(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  floating('mean')({ x: x.dtype });
  return sum(x, axis, keepdim).div(countOver('mean', x, axis));
}

function argReduce(
  op: KernelOp<X, 'argmax' | 'argmin', AxisAttrs>,
  x: Tensor,
  axis: number | undefined,
  keepdim: boolean,
): Tensor {
  if (axis === undefined) return apply(op, { x: reshape(x, [x.numel()]) }, { axis: 0, keepdim: false });
  return apply(op, { x }, { axis: normalizeAxis(op.name, axis, x.ndim), keepdim });
}

/** Index of the largest value (the first one on ties); over the flattened tensor when axis is omitted. */
export const argmax = (x: Tensor, axis?: number, keepdim = false) => argReduce(Argmax, x, axis, keepdim);
export const argmin = (x: Tensor, axis?: number, keepdim = false) => argReduce(Argmin, x, axis, keepdim);

/**
 * log Σ eˣ, computed as m + log Σ e^(x−m) with m the (detached) max: exp never overflows, and since m
 * is a constant the gradient is still softmax(x). An infinite m is replaced by 0 so that rows of
 * all −∞ give −∞ rather than NaN.
 */
export function logsumexp(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  floating('logsumexp')({ x: x.dtype });
  const m0 = max(x, axis, true).detach();
  const m = where(m0.abs().eq(Infinity), 0, m0);
  const out = sum(x.sub(m).exp(), axis, true).log().add(m);
  return keepdim ? out : reshape(out, reduceShapeAll(x.shape, resolveAxes('logsumexp', x, axis), false));
}

/** Variance with Bessel's correction by default (correction = 1), as torch.var. */
export function variance(x: Tensor, axis?: Axes, keepdim = false, correction = 1): Tensor {
  floating('var')({ x: x.dtype });
  const mu = mean(x, axis, true);
  return sum(x.sub(mu).square(), axis, keepdim).div(countOver('var', x, axis) - correction);
}

/** The L2 norm over the axes (all when omitted). */
export function norm(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return apply(Norm, { x }, { axes: axis === undefined ? null : resolveAxes('norm', x, axis), keepdim });
}

export function cumsum(x: Tensor, axis: number): Tensor {
  return apply(Cumsum, { x }, { axis: normalizeAxis('cumsum', axis, x.ndim), reverse: false });
}
