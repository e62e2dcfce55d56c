// Reductions over one axis, several axes or all, with keepdim; argmax/argmin; logsumexp, var, norm,
// cumsum. Forward against plain loops, gradients by finite differences, plus the summation laws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arange, sumTo, tensor, zeros, type Tensor } from '../../core/index.js';
import {
  axes,
  axis,
  broadcastableTo,
  checkOp,
  checkProperty,
  ndarray,
  shape,
  tensorSpec,
  type NDArray,
  type ValueOptions,
} from '../../core/testing/index.js';

type AxisSpec = number | number[] | undefined;

/** A tensor plus a reduction spec: all axes, one (possibly negative) axis, or a list; keepdim. */
function reductionCases(values: ValueOptions = {}, minDim = 1) {
  return shape({ maxRank: 4, maxDim: 3, minDim }).chain((s) => {
    const spec: fc.Arbitrary<AxisSpec> =
      s.length === 0 ? fc.constant(undefined) : fc.oneof(fc.constant(undefined), axis(s.length), axes(s.length));
    return fc
      .tuple(tensorSpec(s, values), spec, fc.boolean())
      .map(([x, ax, keepdim]) => ({ inputs: [x], attrs: { ax, keepdim } }));
  });
}

function axesOf(x: NDArray, ax: AxisSpec): number[] {
  if (ax === undefined) return x.shape.map((_, i) => i);
  return (typeof ax === 'number' ? [ax] : ax).map((a) => (a < 0 ? a + x.shape.length : a));
}

const sumOf = (vs: number[]) => vs.reduce((a, b) => a + b, 0);

interface ReduceCase {
  name: string;
  fn: (x: Tensor, ax: AxisSpec, keepdim: boolean) => Tensor;
  ref: (vs: number[]) => number;
  values?: ValueOptions;
  minDim?: number;
}

const CASES: ReduceCase[] = [
  { name: 'sum', fn: (x, a, k) => x.sum(a, k), ref: sumOf, minDim: 0 },
  { name: 'mean', fn: (x, a, k) => x.mean(a, k), ref: (vs) => sumOf(vs) / vs.length },
  { name: 'max', fn: (x, a, k) => x.max(a, k), ref: (vs) => Math.max(...vs), values: { distinct: true } },
  { name: 'min', fn: (x, a, k) => x.min(a, k), ref: (vs) => Math.min(...vs), values: { distinct: true } },
  {
    name: 'logsumexp',
    fn: (x, a, k) => x.logsumexp(a, k),
    ref: (vs) => {
      const m = Math.max(...vs);
      return m + Math.log(sumOf(vs.map((v) => Math.exp(v - m))));
    },
    values: { min: -20, max: 20 },
  },
  {
    name: 'norm',
    fn: (x, a, k) => x.norm(a, k),
    ref: (vs) => Math.sqrt(sumOf(vs.map((v) => v * v))),
    values: { awayFrom: [0], gap: 0.1 },
  },
];

describe('reduce: forward = plain loops, backward = finite differences', () => {
  for (const c of CASES) {
    it(c.name, () => {
      checkOp({
        name: c.name,
        cases: reductionCases(c.values, c.minDim),
        fn: ([x], { ax, keepdim }) => c.fn(x, ax, keepdim),
        reference: ([x], { ax, keepdim }) => ndarray.reduce(x, axesOf(x, ax), keepdim, c.ref),
      });
    });
  }

  it('var (correction 0 and 1)', () => {
    checkOp({
      name: 'var',
      cases: reductionCases({}, 2).chain((c) =>
        fc.integer({ min: 0, max: 1 }).map((correction) => ({ ...c, attrs: { ...c.attrs, correction } })),
      ),
      fn: ([x], { ax, keepdim, correction }) => x.var(ax, keepdim, correction),
      reference: ([x], { ax, keepdim, correction }) =>
        ndarray.reduce(x, axesOf(x, ax), keepdim, (vs) => {
          const mu = sumOf(vs) / vs.length;
          return sumOf(vs.map((v) => (v - mu) ** 2)) / (vs.length - correction);
        }),
    });
  });

  it('argmax / argmin (first index on ties; flattened when no axis)', () => {
    const cases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
      fc
        .tuple(tensorSpec(s, { integer: true, min: -2, max: 2 }), fc.option(axis(s.length), { nil: undefined }), fc.boolean())
        .map(([x, ax, keepdim]) => ({
          inputs: [x],
          attrs: { ax, keepdim },
        })),
    );
    const firstBest = (better: (a: number, b: number) => boolean) => (vs: number[]) =>
      vs.reduce((best, v, i) => (better(v, vs[best]) ? i : best), 0);
    for (const [name, fn, better] of [
      ['argmax', (x: Tensor, a?: number, k?: boolean) => x.argmax(a, k), (a: number, b: number) => a > b],
      ['argmin', (x: Tensor, a?: number, k?: boolean) => x.argmin(a, k), (a: number, b: number) => a < b],
    ] as const) {
      checkOp({
        name,
        cases,
        fn: ([x], { ax, keepdim }) => fn(x, ax, keepdim).to(x.dtype),
        reference: ([x], { ax, keepdim }) =>
          ax === undefined
            ? { shape: [], data: [firstBest(better)(x.data)] }
            : ndarray.reduce(x, [ax], keepdim, firstBest(better)),
        grad: false,
      });
    }
  });

  it('cumsum along an axis', () => {
    const cases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
      fc.tuple(tensorSpec(s), axis(s.length)).map(([x, a]) => ({ inputs: [x], attrs: { a } })),
    );
    checkOp({
      name: 'cumsum',
      cases,
      fn: ([x], { a }) => x.cumsum(a),
      reference: ([x], { a }) => ndarray.alongAxis(x, a, (line) => line.map((_, j) => sumOf(line.slice(0, j + 1)))),
    });
  });
});

describe('reduce: extremes and special values', () => {
  it('logsumexp is stable for huge inputs and gives −∞ for a row of −∞', () => {
    const x = tensor(
      [
        [1000, 1000],
        [-1000, -1000],
        [-Infinity, -Infinity],
      ],
      { dtype: 'float64' },
    );
    const y = Array.from(x.logsumexp(1).dataSync());
    expect(y[0]).toBeCloseTo(1000 + Math.log(2), 10);
    expect(y[1]).toBeCloseTo(-1000 + Math.log(2), 10);
    expect(y[2]).toBe(-Infinity);
    const f = tensor([1e4, 0], { dtype: 'float32' }).logsumexp();
    expect(f.itemSync()).toBe(1e4);
  });

  it('norm has a zero (not NaN) gradient at the origin, like PyTorch', () => {
    const x = zeros([3], { dtype: 'float64', requiresGrad: true });
    x.norm().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0]);
  });

  it('max splits the gradient evenly among tied maxima', () => {
    const x = tensor([3, 1, 3], { dtype: 'float64', requiresGrad: true });
    x.max().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0.5, 0, 0.5]);
  });

  it('max/min/argmax propagate NaN; max over an empty axis is an error', () => {
    expect(tensor([1, NaN, 3]).max().itemSync()).toBeNaN();
    expect(tensor([1, NaN, 3]).argmax().itemSync()).toBe(1);
    expect(() => zeros([2, 0]).max(1)).toThrow('max: cannot reduce over the empty axis 1 of [2,0]');
    expect(zeros([2, 0]).sum(1).toArraySync()).toEqual([0, 0]);
  });

  it('int32 sums stay int32; mean of int32 is an error', () => {
    const i = arange(5);
    expect(i.sum().dtype).toBe('int32');
    expect(i.sum().itemSync()).toBe(10);
    expect(() => i.mean()).toThrow(/mean: expects a floating tensor/);
  });

  it('full reductions return 0-d tensors; bad axes are errors', () => {
    expect(zeros([2, 3]).sum().shape).toEqual([]);
    expect(zeros([2, 3]).sum([0, 1], true).shape).toEqual([1, 1]);
    expect(() => zeros([2, 3]).sum(2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
    expect(() => zeros([2, 3]).sum([1, -1])).toThrow('sum: repeated axis in [1,-1]');
  });
});

describe('reduce: laws', () => {
  it('the sum over all axes equals the chain of per-axis sums, in any axis order', () => {
    checkProperty(
      shape({ minRank: 1, maxRank: 4 }).chain((s) =>
        fc.tuple(
          tensorSpec(s),
          fc.shuffledSubarray(
            s.map((_, i) => i),
            { minLength: s.length },
          ),
        ),
      ),
      ([x, order]) => {
        const t = tensor(Float64Array.from(x.values), { shape: x.shape });
        let chained = t;
        for (const a of [...order].sort((p, q) => q - p)) chained = chained.sum(a);
        const byOrder = order.reduce((acc, a) => acc.sum(a, true), t);
        const total = t.sum().itemSync();
        expect(Math.abs(chained.itemSync() - total)).toBeLessThan(1e-9);
        expect(Math.abs(byOrder.reshape([]).itemSync() - total)).toBeLessThan(1e-9);
      },
      60,
    );
  });

  it('broadcasting then sumTo preserves totals (expand and its backward are adjoint)', () => {
    checkProperty(
      shape({ maxRank: 4 }).chain((big) => broadcastableTo(big).chain((small) => tensorSpec(small).map((x) => ({ x, big })))),
      ({ x, big }) => {
        const t = tensor(Float64Array.from(x.values), { shape: x.shape });
        const expanded = t.expand(...big);
        const factor = expanded.numel() / Math.max(1, t.numel());
        expect(Math.abs(expanded.sum().itemSync() - factor * t.sum().itemSync())).toBeLessThan(1e-9);
        const back = sumTo(expanded, x.shape);
        expect(back.shape).toEqual(x.shape);
        const tv = t.dataSync();
        back.dataSync().forEach((v, i) => expect(Math.abs(v - factor * tv[i])).toBeLessThan(1e-9));
      },
      60,
    );
  });
});
