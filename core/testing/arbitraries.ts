// fast-check arbitraries for tensor tests: shapes (with size-1 and broadcast dims), axes, values
// (optionally kept away from kinks), and memory layouts that make a tensor non-contiguous —
// permuted axes, or a narrowed window into NaN-padded storage, so a kernel that reads outside its
// view produces NaN instead of passing by luck.

import fc from 'fast-check';
import { cat } from '../ops/join.js';
import { full, tensor } from '../creation.js';
import type { DType } from '../dtype.js';
import { noGrad } from '../grad_mode.js';
import type { Tensor } from '../tensor.js';
import { nd, type NDArray } from './ndarray.js';

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

export function shape({ minRank = 0, maxRank = 4, minDim = 1, maxDim = 4 }: ShapeOptions = {}): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/** A shape that broadcasts to `target`: some leading axes dropped, some others set to 1. */
export function broadcastableTo(target: readonly number[]): fc.Arbitrary<number[]> {
  return fc
    .record({
      drop: fc.integer({ min: 0, max: target.length }),
      ones: fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
    })
    .map(({ drop, ones }) => target.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

/** `n` shapes that broadcast together (each derived from one random target shape). */
export function broadcastShapes(n: number, opts: ShapeOptions = {}): fc.Arbitrary<number[][]> {
  return shape(opts).chain((t) => fc.tuple(...Array.from({ length: n }, () => broadcastableTo(t))));
}

/** A valid axis for `rank`, negative half of the time. */
export function axis(rank: number): fc.Arbitrary<number> {
  return fc.integer({ min: -rank, max: rank - 1 });
}

/** A non-empty set of distinct axes for `rank`, in random order (as non-negative numbers). */
export function axes(rank: number): fc.Arbitrary<number[]> {
  return fc.uniqueArray(fc.integer({ min: 0, max: rank - 1 }), { minLength: 1, maxLength: rank });
}

export interface ValueOptions {
  min?: number;
  max?: number;
  /** Keep every value at least `gap` away from these points (kinks such as 0 for abs/relu). */
  awayFrom?: readonly number[];
  gap?: number;
  /** Draw integers in [min, max] instead of reals. */
  integer?: boolean;
  /** All values pairwise apart by at least (max − min)/2000 — no ties (for max, sort, topk gradients). */
  distinct?: boolean;
}

export function values(
  n: number,
  { min = -3, max = 3, awayFrom = [], gap = 1e-3, integer = false, distinct = false }: ValueOptions = {},
): fc.Arbitrary<number[]> {
  if (distinct) {
    const step = (max - min) / 2000;
    const grid = fc.uniqueArray(fc.integer({ min: 0, max: 2000 }), { minLength: n, maxLength: n });
    return grid.map((ks) => ks.map((k) => min + k * step));
  }
  const one = integer
    ? fc.integer({ min, max })
    : fc.double({ min, max, noNaN: true }).filter((v) => awayFrom.every((k) => Math.abs(v - k) >= gap));
  return fc.array(one, { minLength: n, maxLength: n });
}

/** How a tensor's storage is arranged around its logical values. */
export type Layout =
  | { kind: 'contiguous' }
  | { kind: 'permuted'; perm: number[] }
  | { kind: 'narrowed'; axis: number; before: number; after: number };

export function layout(rank: number): fc.Arbitrary<Layout> {
  const options: fc.Arbitrary<Layout>[] = [fc.constant({ kind: 'contiguous' as const })];
  if (rank >= 2) {
    const perm = fc.shuffledSubarray(
      Array.from({ length: rank }, (_, i) => i),
      { minLength: rank, maxLength: rank },
    );
    options.push(perm.map((p) => ({ kind: 'permuted' as const, perm: p })));
  }
  if (rank >= 1) {
    options.push(
      fc.record({
        kind: fc.constant('narrowed' as const),
        axis: fc.integer({ min: 0, max: rank - 1 }),
        before: fc.integer({ min: 0, max: 2 }),
        after: fc.integer({ min: 0, max: 2 }),
      }),
    );
  }
  return fc.oneof(...options);
}

/** A tensor's logical values plus the storage layout it will be built with. */
export interface TensorSpec {
  shape: number[];
  values: number[];
  layout: Layout;
}

export function tensorSpec(
  shapeArb: readonly number[] | fc.Arbitrary<number[]>,
  opts: ValueOptions = {},
): fc.Arbitrary<TensorSpec> {
  const s: fc.Arbitrary<number[]> = Array.isArray(shapeArb)
    ? fc.constant([...(shapeArb as number[])])
    : (shapeArb as fc.Arbitrary<number[]>);
  return s.chain((sh: number[]) =>
    fc.record({
      shape: fc.constant(sh),
      values: values(
        sh.reduce((a, b) => a * b, 1),
        opts,
      ),
      layout: layout(sh.length),
    }),
  );
}

/** Round values the way `dtype` stores them (what the reference formula should see). */
export function roundTo(dtype: DType, v: number): number {
  return dtype === 'float32' ? Math.fround(v) : dtype === 'int32' ? v | 0 : dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
}

/** The spec's values as a reference NDArray, rounded as `dtype` would store them. */
export function toND(spec: TensorSpec, dtype: DType = 'float64'): NDArray {
  return nd(
    spec.shape,
    spec.values.map((v) => roundTo(dtype, v)),
  );
}

/**
 * Build the tensor a spec describes, with its layout: logically equal to `values`, physically
 * permuted or a window into padded storage. The result is a leaf (optionally requiring grad).
 */
export function build(spec: TensorSpec, opts: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  const dtype = opts.dtype ?? 'float64';
  const t = noGrad(() => {
    const logical = tensor(Float64Array.from(spec.values), { shape: spec.shape }).to(dtype);
    const L = spec.layout;
    if (L.kind === 'permuted') {
      const inverse = new Array<number>(L.perm.length);
      L.perm.forEach((d, i) => (inverse[d] = i));
      return logical
        .permute(...L.perm)
        .contiguous()
        .permute(...inverse);
    }
    if (L.kind === 'narrowed') {
      const pad = (n: number) =>
        full(
          spec.shape.map((d, i) => (i === L.axis ? n : d)),
          padValue(dtype),
          { dtype },
        );
      return cat([pad(L.before), logical, pad(L.after)], L.axis).narrow(L.axis, L.before, spec.shape[L.axis]);
    }
    return logical;
  }).detach();
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Padding that poisons any read outside the view: NaN for floats, an absurd value for integers
 * (below 2^24 in magnitude, so backends that store int32 as float32 — the GPU — hold it exactly).
 */
function padValue(dtype: DType): number {
  return dtype === 'float32' || dtype === 'float64' ? NaN : dtype === 'int32' ? -9999999 : 1;
}
