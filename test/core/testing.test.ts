// The property-test machinery is itself tested: gradcheck and checkOp must fail on wrong ops (a test
// that cannot fail proves nothing), and the layouts really are non-contiguous views of the values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, tensor, type Op, type Tensor } from '../../core/index.js';
import { build, checkOp, checkProperty, gradcheck, ndarray, shape, tensorSpec } from '../../core/testing/index.js';

/** A user-defined op (softplus) with a correct or a deliberately wrong derivative. */
function softplusOp(wrong: boolean): Op<'x'> {
  return {
    name: 'softplus',
    inputs: ['x'],
    shape: ({ x }) => x,
    save: ['x'],
    // Composite forward: log(1 + eˣ); backward: σ(x) (or 1.01·σ(x) when wrong).
    forward: ({ x }) => x.exp().add(1).log(),
    backward: (dy, { x }) => ({ x: () => dy.mul(x.sigmoid()).mul(wrong ? 1.01 : 1) }),
  };
}
const softplus = (x: Tensor, wrong = false) => apply(softplusOp(wrong), { x }, {});

describe('gradcheck', () => {
  it('passes a correct user-defined op and fails a wrong one, naming the entries', () => {
    const x = tensor([-1, 0.5, 2], { dtype: 'float64', requiresGrad: true });
    expect(gradcheck((t) => softplus(t), [x]).checked).toBe(3);
    expect(() => gradcheck((t) => softplus(t, true), [x], { name: 'softplus' })).toThrow(
      /softplus: 3 of 3 gradient entries differ \(inputs \[3\]\):\n {2}input 0 element 0: analytic/,
    );
  });

  it('refuses inputs it cannot check honestly', () => {
    expect(() => gradcheck((t) => t, [tensor([1], { requiresGrad: true })])).toThrow('input 0 must be float64');
    const base = tensor([1], { dtype: 'float64' });
    const expanded = base.expand(3).detach().requiresGrad_();
    expect(() => gradcheck((t) => t, [expanded])).toThrow(/expanded view \(stride 0\)/);
    expect(() => gradcheck((t) => t, [base])).toThrow('no input requires grad');
  });
});

describe('checkOp', () => {
  it('fails when the forward disagrees with the reference', () => {
    expect(() =>
      checkOp({
        name: 'bad-forward',
        cases: tensorSpec([3]).map((x) => ({ inputs: [x], attrs: {} })),
        fn: ([x]) => x.add(1e-3),
        reference: ([x]) => x,
        grad: false,
        numRuns: 5,
      }),
    ).toThrow(/bad-forward \(float32 forward\): 3 of 3 values differ/);
  });
});

describe('layouts', () => {
  it('build() gives tensors equal to their values, non-contiguous when permuted or narrowed', () => {
    checkProperty(tensorSpec(shape({ minRank: 2, maxRank: 4, minDim: 2 })), (spec) => {
      const t = build(spec);
      expect(Array.from(t.dataSync())).toEqual(spec.values);
      expect(t.shape).toEqual(spec.shape);
      if (spec.layout.kind === 'permuted' && spec.layout.perm.some((d, i) => d !== i)) expect(t.isContiguous()).toBe(false);
      if (spec.layout.kind === 'narrowed' && spec.layout.before > 0) expect(t.offset).toBeGreaterThan(0);
    });
  });

  it('narrowed storage is padded with NaN, so reading outside the view is loud', () => {
    const spec = { shape: [2, 2], values: [1, 2, 3, 4], layout: { kind: 'narrowed' as const, axis: 1, before: 1, after: 1 } };
    const t = build(spec);
    expect(Array.from(t.storage.data as Float64Array).filter(Number.isNaN).length).toBe(4);
  });

  it('the reference NDArray helpers agree with hand-computed values', () => {
    const a = ndarray.nd([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(ndarray.reduce(a, [1], false, (v) => v.reduce((p, q) => p + q, 0)).data).toEqual([6, 15]);
    expect(ndarray.permute(a, [1, 0]).data).toEqual([1, 4, 2, 5, 3, 6]);
    expect(ndarray.zip([a, ndarray.nd([3], [10, 20, 30])], (p, q) => p + q).data).toEqual([11, 22, 33, 14, 25, 36]);
    expect(fc.sample(shape({ maxRank: 2 }), 5).every((s) => s.length <= 2)).toBe(true);
  });
});

describe('fcParams', () => {
  it('bounds a property in time: a law too slow for its budget fails instead of running on', () => {
    const saved = process.env.FC_TIME_LIMIT_MS;
    process.env.FC_TIME_LIMIT_MS = '300';
    try {
      const busy = (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
      };
      const t0 = Date.now();
      // 1000 runs of 20 ms of synchronous work: 20 s unbounded (a test runner's timeout cannot stop it).
      expect(() => checkProperty(fc.nat(), () => busy(20), 1000)).toThrow(/interrupted/i);
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      if (saved === undefined) delete process.env.FC_TIME_LIMIT_MS;
      else process.env.FC_TIME_LIMIT_MS = saved;
    }
  });
});
