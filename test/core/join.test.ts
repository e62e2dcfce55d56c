// cat / stack / split / chunk: forward by index arithmetic, gradients by finite differences
// (cat's backward slices dy; split's pieces are narrow views).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arange, cat, chunk, split, stack, zeros } from '../../core/index.js';
import { checkOp, ndarray, shape, tensorSpec, type NDArray } from '../../core/testing/index.js';

const { multiIndex, at } = ndarray;

function refCat(xs: NDArray[], a: number): NDArray {
  const shape = xs[0].shape.map((d, i) => (i === a ? xs.reduce((n, x) => n + x.shape[a], 0) : d));
  const n = shape.reduce((p, q) => p * q, 1);
  const data = Array.from({ length: n }, (_, p) => {
    const idx = multiIndex(shape, p);
    let c = idx[a];
    for (const x of xs) {
      if (c < x.shape[a])
        return at(
          x,
          idx.map((v, i) => (i === a ? c : v)),
        );
      c -= x.shape[a];
    }
    throw new Error('unreachable');
  });
  return { shape, data };
}

/** 1–4 tensors equal in every axis but `a`, whose sizes vary (including 0). */
const catCases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
  fc.integer({ min: 0, max: s.length - 1 }).chain((a) =>
    fc
      .array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 })
      .chain((widths) => fc.tuple(...widths.map((w) => tensorSpec(s.map((d, i) => (i === a ? w : d))))))
      .map((inputs) => ({ inputs, attrs: { a } })),
  ),
);

describe('cat / stack', () => {
  it('cat along any axis', () => {
    checkOp({ name: 'cat', cases: catCases, fn: (xs, { a }) => cat(xs, a), reference: (xs, { a }) => refCat(xs, a) });
  });

  it('stack adds a new axis', () => {
    const cases = shape({ maxRank: 3 }).chain((s) =>
      fc
        .tuple(fc.integer({ min: 0, max: s.length }), fc.integer({ min: 1, max: 3 }))
        .chain(([a, n]) =>
          fc.tuple(...Array.from({ length: n }, () => tensorSpec(s))).map((inputs) => ({ inputs, attrs: { a } })),
        ),
    );
    checkOp({
      name: 'stack',
      cases,
      fn: (xs, { a }) => stack(xs, a),
      reference: (xs, { a }) =>
        refCat(
          xs.map((x) => ({ shape: [...x.shape.slice(0, a), 1, ...x.shape.slice(a)], data: x.data })),
          a,
        ),
    });
  });

  it('mismatched shapes are an error listing them', () => {
    expect(() => cat([zeros([2, 3]), zeros([3, 3])], 1)).toThrow('cat: shapes [2,3], [3,3] differ outside axis 1');
    expect(() => cat([])).toThrow('cat: needs at least one tensor');
  });
});

describe('split / chunk', () => {
  it('pieces are views whose gradients land in the right places', () => {
    const cases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
      fc
        .tuple(tensorSpec(s), fc.integer({ min: 0, max: s.length - 1 }), fc.integer({ min: 1, max: 4 }))
        .map(([x, a, size]) => ({ inputs: [x], attrs: { a, size } })),
    );
    // Scale piece i by (i + 1) and put them back together: wrong offsets or sizes change the result.
    checkOp({
      name: 'split',
      cases,
      fn: ([x], { a, size }) =>
        cat(
          split(x, size, a).map((p, i) => p.mul(i + 1)),
          a,
        ),
      reference: ([x], { a, size }) => ndarray.map(x, (v, idx) => v * (Math.floor(idx[a] / size) + 1)),
    });
  });

  it('split by a list of sizes; chunk as torch.chunk', () => {
    const x = arange(10);
    expect(split(x, [3, 0, 7]).map((t) => t.shape[0])).toEqual([3, 0, 7]);
    expect(chunk(x, 3).map((t) => Array.from(t.dataSync()))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(chunk(arange(6), 4).map((t) => t.shape[0])).toEqual([2, 2, 2]);
    expect(() => split(x, [3, 3])).toThrow('split: sizes [3,3] do not add up to 10, the size of axis 0 of [10]');
  });
});
