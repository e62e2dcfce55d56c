// The fused AdamW update (in place, one pass per parameter) equals the same rule written in ops, in
// float32 and float64; views and mismatched optimizer state are refused with a clear error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adamwReference, adamwUpdate_, randn, zeros } from '../../core/index.js';
import { checkProperty, shape } from '../../core/testing/index.js';

describe('adamw', () => {
  const cases = fc.record({
    shape: shape({ minRank: 1, maxRank: 2, maxDim: 5 }),
    lr: fc.constantFrom(1e-3, 3e-4, 0.1),
    beta1: fc.constantFrom(0.9, 0.8),
    beta2: fc.constantFrom(0.95, 0.999),
    eps: fc.constantFrom(1e-8, 1e-6),
    weightDecay: fc.constantFrom(0, 0.1),
    step: fc.integer({ min: 1, max: 10 }),
    seed: fc.integer({ min: 0, max: 1000 }),
    dtype: fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
  });

  it('in place = the rule written in ops', () => {
    checkProperty(cases, ({ shape: s, seed, dtype, ...h }) => {
      const p = randn(s, { dtype })
        .add(seed % 3)
        .contiguous();
      const g = randn(s, { dtype });
      const m = randn(s, { dtype }).mul(0.1).contiguous();
      const v = randn(s, { dtype }).square().mul(0.01).contiguous();
      const ref = adamwReference(p, g, m, v, h);
      const storage = p.storage;
      adamwUpdate_(p, g, m, v, h);
      expect(p.storage).toBe(storage);
      const tol = dtype === 'float32' ? 2e-6 : 1e-12;
      for (const [got, want] of [
        [p, ref.param],
        [m, ref.m],
        [v, ref.v],
      ] as const) {
        const a = got.dataSync();
        want.dataSync().forEach((w, i) => expect(Math.abs(a[i] - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w))));
      }
    });
  });

  it('refuses views and mismatched state', () => {
    const p = zeros([4]);
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 1 };
    expect(() => adamwUpdate_(p.narrow(0, 1, 2), zeros([2]), zeros([2]), zeros([2]), h)).toThrow(
      /param must be a contiguous tensor that owns its storage/,
    );
    expect(() => adamwUpdate_(p, zeros([3]), zeros([4]), zeros([4]), h)).toThrow(
      'adamwUpdate_: grad is [3] float32, parameter is [4] float32',
    );
    expect(() => adamwUpdate_(p, zeros([4]), zeros([4]), zeros([4]), { ...h, step: 0 })).toThrow(
      /step must be a positive integer/,
    );
  });
});
