// SwiGLU, silu(gate)·up fused into one pass: equal to its unfused reference (forward and both
// gradients), forward against a plain formula, gradients by float64 finite differences.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { swiglu } from '../../core/index.js';
import { Swiglu } from '../../core/ops/index.js';
import { checkFused, checkOp, ndarray, shape, tensorSpec } from '../../core/testing/index.js';

describe('swiglu', () => {
  const cases = shape({ maxRank: 3 }).chain((s) =>
    fc.tuple(tensorSpec(s, { min: -6, max: 6 }), tensorSpec(s)).map((inputs) => ({ inputs, attrs: {} })),
  );

  it('fused = silu(gate)·up, forward and gradients', () => {
    checkFused({
      name: 'swiglu',
      cases,
      fused: ([g, u]) => swiglu(g, u),
      reference: ([gate, up]) => Swiglu.reference!({ gate, up }, {}),
    });
  });

  it('backward = finite differences', () => {
    checkOp({
      name: 'swiglu',
      cases,
      fn: ([g, u]) => swiglu(g, u),
      reference: ([g, u]) => ndarray.zip([g, u], (a, b) => (a / (1 + Math.exp(-a))) * b),
    });
  });
});
