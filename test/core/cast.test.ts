// cast (Tensor.to) and clone: dtype conversion as the typed arrays do it — float64 → float32 rounds to
// nearest, → int32 truncates toward zero, → bool is x ≠ 0 — always into a fresh buffer; the gradient of
// a conversion is dy converted back to the input's dtype; clone is a cast to the same dtype.
import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/index.js';
import { checkOp, shape, tensorSpec } from '../../core/testing/index.js';

const cases = shape({ maxRank: 3 }).chain((s) => tensorSpec(s, { min: -1e3, max: 1e3 }).map((x) => ({ inputs: [x], attrs: {} })));

describe('cast', () => {
  it('float64 → float32 rounds to nearest; float32 → float64 is exact', () => {
    // Round trip through the other float dtype: float64 values come back rounded, float32 ones unchanged.
    checkOp({
      name: 'cast',
      cases,
      fn: ([x]) => x.to(x.dtype === 'float64' ? 'float32' : 'float64').to(x.dtype),
      reference: ([x]) => ({ shape: x.shape, data: x.data.map((v) => Math.fround(v)) }),
      // fround is a step function at float32's spacing, which central differences cannot see through.
      grad: false,
    });
    expect(
      Array.from(
        tensor([1e40, 1 + 2 ** -30, -(2 ** -200)], { dtype: 'float64' })
          .to('float32')
          .dataSync(),
      ),
    ).toEqual([Infinity, 1, -0]);
  });

  it('→ int32 truncates toward zero, → bool is x ≠ 0 (NaN and ±∞ included), int32 → float32 rounds', () => {
    const x = tensor([-2.7, -0.5, 0, 0.5, 2.7], { dtype: 'float64', requiresGrad: true });
    const i = x.to('int32');
    expect([i.dtype, i.requiresGrad]).toEqual(['int32', false]);
    expect(Array.from(i.dataSync())).toEqual([-2, 0, 0, 0, 2]);
    expect(Array.from(tensor([0, -0, 0.1, -3, NaN, Infinity]).to('bool').dataSync())).toEqual([0, 0, 1, 1, 1, 1]);
    expect(Array.from(tensor([16777217, -5], { dtype: 'int32' }).to('float32').dataSync())).toEqual([16777216, -5]);
    expect(Array.from(tensor([true, false]).to('float64').dataSync())).toEqual([1, 0]);
  });

  it('the gradient of a conversion is dy converted back to the input dtype', () => {
    const x = tensor([1.5, -2], { dtype: 'float64', requiresGrad: true });
    const y = x.to('float32');
    expect([y.dtype, y.requiresGrad]).toEqual(['float32', true]);
    y.mul(tensor([0.1, 3], { dtype: 'float32' }))
      .sum()
      .backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(Array.from(x.grad!.dataSync())).toEqual([Math.fround(0.1), 3]);
  });
});

describe('clone', () => {
  it('a copy with its own storage; the gradient passes through (= finite differences)', () => {
    checkOp({ name: 'clone', cases, fn: ([x]) => x.clone(), reference: ([x]) => x });
    const x = tensor([1, 2]);
    const c = x.clone();
    expect(c).not.toBe(x);
    expect(c.storage).not.toBe(x.storage);
    expect(c.toArraySync()).toEqual([1, 2]);
    // A cast to the dtype a tensor already has is the tensor itself (no copy).
    expect(x.to('float32')).toBe(x);
  });
});
