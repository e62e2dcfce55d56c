// argsort / sort / topk: stable order (ties keep the lower index first — MoE routing depends on it),
// values differentiable through the gather.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/index.js';
import { axis, checkOp, ndarray, shape, tensorSpec } from '../../core/testing/index.js';

/** Stable order of a line: ascending or descending, equal values by index. */
function order(line: number[], descending: boolean): number[] {
  return line.map((_, j) => j).sort((p, q) => (descending ? line[q] - line[p] : line[p] - line[q]) || p - q);
}

const cases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
  fc
    .tuple(tensorSpec(s, { distinct: true }), axis(s.length), fc.boolean())
    .map(([x, a, descending]) => ({ inputs: [x], attrs: { a, descending } })),
);

describe('sort / argsort / topk', () => {
  it('sort values (differentiable) and argsort indices', () => {
    checkOp({
      name: 'sort',
      cases,
      fn: ([x], { a, descending }) => x.sort(a, descending).values,
      reference: ([x], { a, descending }) => ndarray.alongAxis(x, a, (line) => order(line, descending).map((j) => line[j])),
    });
    checkOp({
      name: 'argsort',
      cases,
      fn: ([x], { a, descending }) => x.argsort(a, descending).to(x.dtype),
      reference: ([x], { a, descending }) => ndarray.alongAxis(x, a, (line) => order(line, descending)),
      grad: false,
    });
  });

  it('topk values and indices, largest or smallest', () => {
    const topCases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
      fc
        .tuple(tensorSpec(s, { distinct: true }), fc.boolean())
        .chain(([x, largest]) =>
          fc.integer({ min: 0, max: s[s.length - 1] }).map((k) => ({ inputs: [x], attrs: { k, largest } })),
        ),
    );
    const ref = (line: number[], k: number, largest: boolean) => order(line, largest).slice(0, k);
    const along = (x: ndarray.NDArray, k: number, f: (line: number[]) => number[]) => {
      const rows = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
      const n = x.shape[x.shape.length - 1];
      const data = Array.from({ length: rows }, (_, r) => f(x.data.slice(r * n, (r + 1) * n))).flat();
      return { shape: [...x.shape.slice(0, -1), k], data };
    };
    checkOp({
      name: 'topk values',
      cases: topCases,
      fn: ([x], { k, largest }) => x.topk(k, -1, largest).values,
      reference: ([x], { k, largest }) => along(x, k, (line) => ref(line, k, largest).map((j) => line[j])),
    });
    checkOp({
      name: 'topk indices',
      cases: topCases,
      fn: ([x], { k, largest }) => x.topk(k, -1, largest).indices.to(x.dtype),
      reference: ([x], { k, largest }) => along(x, k, (line) => ref(line, k, largest)),
      grad: false,
    });
  });

  it('ties are broken by the lower index, deterministically', () => {
    const x = tensor([[1, 3, 3, 2, 3]]);
    expect(x.topk(3).indices.toArraySync()).toEqual([[1, 2, 4]]);
    expect(x.argsort(-1).toArraySync()).toEqual([[0, 3, 1, 2, 4]]);
    expect(x.argsort(-1, true).toArraySync()).toEqual([[1, 2, 4, 3, 0]]);
    expect(() => x.topk(6)).toThrow('topk: k = 6 is out of range for axis -1 of size 5');
  });
});
