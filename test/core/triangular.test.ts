// tril / triu: keep the lower or upper triangle of the last two axes at any diagonal offset, forward
// against an index formula, gradient (dy on the kept triangle, 0 elsewhere) by finite differences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tril, triu, zeros } from '../../core/index.js';
import { checkOp, ndarray, shape, tensorSpec } from '../../core/testing/index.js';

describe('tril / triu', () => {
  it('keep one triangle of the last two axes (any diagonal offset), gradient only there', () => {
    const cases = shape({ minRank: 2, maxRank: 3 }).chain((s) =>
      fc
        .tuple(tensorSpec(s), fc.integer({ min: -3, max: 3 }), fc.boolean())
        .map(([x, k, lower]) => ({ inputs: [x], attrs: { k, lower } })),
    );
    checkOp({
      name: 'tril/triu',
      cases,
      fn: ([x], { k, lower }) => (lower ? tril(x, k) : triu(x, k)),
      reference: ([x], { k, lower }) => {
        const r = x.shape.length;
        return ndarray.map(x, (v, idx) => ((lower ? idx[r - 1] - idx[r - 2] <= k : idx[r - 1] - idx[r - 2] >= k) ? v : 0));
      },
    });
    expect(() => tril(zeros([3]))).toThrow('tril: expects at least 2 dimensions, got [3]');
  });
});
