// linear with HF's [out, in] weights: y = x·wᵀ + b for [..., in] inputs, forward against a plain loop
// over rows, gradients by finite differences, and shape errors. The fused epilogue (activation,
// residual) is tested against its composition where its kernel lives, in test/kernels/cpu/matmul.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linear, zeros } from '../../core/index.js';
import { checkOp, tensorSpec, type NDArray } from '../../core/testing/index.js';

/** y[r, o] = Σ_i x[r, i]·w[o, i] + b[o] over every leading row r of x. */
function refLinear(x: NDArray, w: NDArray, b: NDArray): NDArray {
  const [O, I] = w.shape;
  const rows = x.data.length / I;
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += x.data[r * I + i] * w.data[o * I + i];
      data.push(s + b.data[o]);
    }
  }
  return { shape: [...x.shape.slice(0, -1), O], data };
}

const dims = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }));

describe('linear', () => {
  it('y = x·wᵀ + b for [..., in] inputs, HF [out, in] weights', () => {
    const cases = fc
      .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), dims, fc.boolean())
      .chain(([lead, [I, O]]) =>
        fc.tuple(tensorSpec([...lead, I]), tensorSpec([O, I]), tensorSpec([O])).map((inputs) => ({ inputs, attrs: {} })),
      );
    checkOp({
      name: 'linear',
      cases,
      fn: ([x, w, b]) => linear(x, w, b),
      reference: ([x, w, b]) => refLinear(x, w, b),
    });
  });

  it('rejects weights of the wrong shape with a message naming both', () => {
    expect(() => linear(zeros([2, 3]), zeros([4, 5]))).toThrow('linear: x is [2,3] and w is [4,5]; expected w [out, 3]');
    expect(() => linear(zeros([2, 3]), zeros([4, 3]), zeros([5]))).toThrow('linear: bias is [5], expected [4]');
  });
});
