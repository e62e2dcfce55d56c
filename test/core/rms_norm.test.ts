// Fused RMSNorm: equal to its unfused reference (forward and both gradients), forward against a plain
// formula, gradients by float64 finite differences; eps placement and shape errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rmsNorm, tensor } from '../../core/index.js';
import { RmsNorm } from '../../core/ops/index.js';
import { checkFused, checkOp, ndarray, shape, tensorSpec } from '../../core/testing/index.js';

const normCases = fc
  .tuple(shape({ maxRank: 2, maxDim: 3 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(1e-6, 1e-5, 0.1))
  .chain(([lead, C, eps]) => fc.tuple(tensorSpec([...lead, C]), tensorSpec([C])).map((inputs) => ({ inputs, attrs: { eps } })));

describe('rmsNorm', () => {
  it('fused = reference, forward and gradients', () => {
    checkFused({
      name: 'rmsNorm',
      cases: normCases,
      fused: ([x, w], { eps }) => rmsNorm(x, w, eps),
      reference: ([x, w], { eps }) => RmsNorm.reference!({ x, w }, { eps }),
    });
  });

  it('forward = plain formula; backward = finite differences', () => {
    checkOp({
      name: 'rmsNorm',
      cases: normCases,
      fn: ([x, w], { eps }) => rmsNorm(x, w, eps),
      reference: ([x, w], { eps }) =>
        ndarray.alongAxis(x, -1, (row) => {
          const inv = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + eps);
          return row.map((v, j) => w.data[j] * v * inv);
        }),
      forwardTol: { float32: { atol: 1e-5, rtol: 1e-5 } },
    });
  });

  it('eps goes inside the square root; shape errors name the op', () => {
    const y = rmsNorm(tensor([0, 0], { dtype: 'float64' }), tensor([1, 1], { dtype: 'float64' }), 1e-6);
    expect(Array.from(y.dataSync())).toEqual([0, 0]);
    const z = rmsNorm(tensor([3, 4], { dtype: 'float64' }), tensor([1, 2], { dtype: 'float64' }), 0);
    expect(Array.from(z.dataSync()).map((v) => v.toFixed(12))).toEqual([
      (3 / Math.sqrt(12.5)).toFixed(12),
      ((2 * 4) / Math.sqrt(12.5)).toFixed(12),
    ]);
    expect(() => rmsNorm(tensor([[1, 2, 3]]), tensor([1, 2]))).toThrow(
      'rmsNorm: x is [1,3] and weight is [2]; expected weight [3]',
    );
  });
});
