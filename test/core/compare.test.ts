// Comparisons (eq, ne, lt, le, gt, ge: bool results with broadcasting), logical ops on bool tensors,
// where (the gradient goes to the chosen branch) and maskedFill: forward against plain formulas on an
// independent broadcasting reference, gradients by finite differences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskedFill, tensor, where, type Tensor } from '../../core/index.js';
import { broadcastShapes, checkOp, ndarray, tensorSpec, type ValueOptions } from '../../core/testing/index.js';

/** Two tensors of broadcastable shapes. */
function pairCases(a: ValueOptions = {}, b: ValueOptions = {}) {
  return broadcastShapes(2, { maxRank: 3 }).chain(([sa, sb]) =>
    fc.tuple(tensorSpec(sa, a), tensorSpec(sb, b)).map(([x, y]) => ({ inputs: [x, y], attrs: {} })),
  );
}

describe('eq / ne / lt / le / gt / ge', () => {
  const CMP: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => boolean][] = [
    ['eq', (a, b) => a.eq(b), (a, b) => a === b],
    ['ne', (a, b) => a.ne(b), (a, b) => a !== b],
    ['lt', (a, b) => a.lt(b), (a, b) => a < b],
    ['le', (a, b) => a.le(b), (a, b) => a <= b],
    ['gt', (a, b) => a.gt(b), (a, b) => a > b],
    ['ge', (a, b) => a.ge(b), (a, b) => a >= b],
  ];
  for (const [name, fn, ref] of CMP) {
    it(`${name} gives bool with broadcasting`, () => {
      // Small integers so that equal values actually occur.
      checkOp({
        name,
        cases: pairCases({ integer: true, min: -2, max: 2 }, { integer: true, min: -2, max: 2 }),
        fn: ([a, b]) => fn(a, b).to(a.dtype),
        reference: ([a, b]) => ndarray.zip([a, b], (x, y) => (ref(x, y) ? 1 : 0)),
        grad: false,
      });
      expect(fn(tensor([1]), tensor([2])).dtype).toBe('bool');
    });
  }
});

describe('where / maskedFill', () => {
  it('where: forward picks per element, gradients go to the chosen branch only', () => {
    const cases = broadcastShapes(3, { maxRank: 3 }).chain(([sc, sa, sb]) =>
      fc.tuple(tensorSpec(sc, { integer: true, min: 0, max: 1 }), tensorSpec(sa), tensorSpec(sb)).map(([c, a, b]) => ({
        inputs: [{ ...c, kind: 'bool' as const }, a, b],
        attrs: {},
      })),
    );
    checkOp({
      name: 'where',
      cases,
      fn: ([c, a, b]) => where(c, a, b),
      reference: ([c, a, b]) => ndarray.zip([c, a, b], (cv, av, bv) => (cv ? av : bv)),
    });
    expect(() => where(tensor([1, 0]), tensor([1, 2]), tensor([3, 4]))).toThrow(/where: condition must be bool, got float32/);
  });

  it('maskedFill fills where the (broadcast) mask is true and passes the gradient elsewhere', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const m = tensor([true, false]);
    const y = maskedFill(x, m, -5);
    expect(y.toArraySync()).toEqual([
      [-5, 2],
      [-5, 4],
    ]);
    y.sum().backward();
    expect(x.grad!.toArraySync()).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });
});

describe('logicalAnd / logicalOr / logicalNot', () => {
  it('logical ops on bool tensors', () => {
    const a = tensor([true, true, false, false]);
    const b = tensor([true, false, true, false]);
    expect(Array.from(a.logicalAnd(b).dataSync())).toEqual([1, 0, 0, 0]);
    expect(Array.from(a.logicalOr(b).dataSync())).toEqual([1, 1, 1, 0]);
    expect(Array.from(a.logicalNot().dataSync())).toEqual([0, 0, 1, 1]);
    expect(() => tensor([1]).logicalNot()).toThrow(/logicalNot: expects bool tensors, got float32/);
  });
});
