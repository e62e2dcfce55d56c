// The autograd engine: accumulation across calls, shared subgraphs, zeroGrad, noGrad, detach,
// requiresGrad rules, freed graphs, higher-order gradients, the functional grad(), retainGrad.
import { describe, expect, it } from 'vitest';
import { grad, noGrad, ones, randn, tensor, zeros, type Tensor } from '../../core/index.js';

const f64 = (v: number[], requiresGrad = true) => tensor(v, { dtype: 'float64', requiresGrad });

describe('backward', () => {
  it('gradients accumulate across backward calls until zeroGrad', () => {
    const x = f64([1, 2]);
    x.square().sum().backward();
    x.square().sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([4, 8]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.mul(3).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([3, 3]);
  });

  it('paths that meet are summed (diamond graph), and a tensor used twice gets both contributions', () => {
    const x = f64([2]);
    const a = x.mul(3);
    const b = x.square();
    a.mul(b).add(x.mul(x)).sum().backward(); // 3x·x² + x² → 9x² + 2x = 40
    expect(x.grad!.itemSync()).toBe(40);
  });

  it('backward(grad) for non-scalar outputs; a clear error without it', () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(
      'backward: gradient can be implied only for a single-element output, got shape [3]; pass backward(grad)',
    );
    y.backward(f64([1, 0, -1], false));
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 0, -2]);
    expect(() => x.mul(2).backward(f64([1, 2], false))).toThrow('backward: grad is [2] float64, but the output is [3] float64');
  });

  it('leaf gradients own their storage even when one gradient tensor reaches several leaves', () => {
    const a = f64([1]);
    const b = f64([2]);
    a.add(b).sum().backward();
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
  });

  it('the graph is freed after backward unless retainGraph', () => {
    const x = f64([1, 2]);
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/the graph through '.*' was freed by an earlier backward\(\)/);
    const z = x.exp().sum();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.dataSync()[0]).toBeCloseTo(3 * Math.E, 12);
  });

  it('createGraph gives higher-order gradients (d²/dx² x³ = 6x)', () => {
    const x = f64([2]);
    const [dx] = grad((t: Tensor) => t.pow(3).sum(), [x]);
    expect(dx.itemSync()).toBe(12);
    const y = x.pow(3).sum();
    y.backward(undefined, { createGraph: true });
    const first = x.grad!;
    expect(first.requiresGrad).toBe(true);
    x.zeroGrad();
    first.sum().backward();
    expect(x.grad!.itemSync()).toBe(12);
  });

  it('retainGrad keeps an intermediate gradient', () => {
    const x = f64([1, 2]);
    const h = x.mul(2).retainGrad();
    h.square().sum().backward();
    expect(Array.from(h.grad!.dataSync())).toEqual([4, 8]);
    expect(Array.from(x.grad!.dataSync())).toEqual([8, 16]);
  });
});

describe('grad modes and leaves', () => {
  it('noGrad records nothing; detach cuts the graph but shares storage', () => {
    const x = f64([1]);
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(() => y.sum().backward()).toThrow('backward: tensor does not require grad');
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    const v = x.detach();
    expect(v.storage).toBe(x.storage);
  });

  it('requiresGrad only on floating leaves', () => {
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(
      'requiresGrad: only floating tensors can require gradients, got int32',
    );
    const x = f64([1]);
    expect(() => {
      x.mul(2).requiresGrad = false;
    }).toThrow('requiresGrad: can only be set on a leaf tensor');
    expect(x.argmax().requiresGrad).toBe(false);
    expect(x.gt(0).requiresGrad).toBe(false);
  });

  it('gradients flow to float inputs only, never to indices', () => {
    const w = randn([4, 2], { dtype: 'float64', requiresGrad: true });
    const ids = tensor([0, 3, 3], { dtype: 'int32' });
    w.indexSelect(0, ids).sum().backward();
    expect(w.grad!.toArraySync()).toEqual([
      [1, 1],
      [0, 0],
      [0, 0],
      [2, 2],
    ]);
  });
});

describe('grad(f, inputs)', () => {
  it('returns gradients without touching any .grad', () => {
    const x = f64([1, 2]);
    const p = f64([3]);
    const [gx] = grad((t: Tensor) => t.mul(p).square().sum(), [x]);
    expect(Array.from(gx.dataSync())).toEqual([18, 36]);
    expect(x.grad).toBeNull();
    expect(p.grad).toBeNull();
  });

  it('single tensor in, single gradient out; inputs that f ignores get zeros', () => {
    const g = grad((t: Tensor) => t.sin().sum(), tensor([0], { dtype: 'float64' }));
    expect(g.itemSync()).toBe(1);
    const [, gb] = grad((a: Tensor) => a.sum(), [ones([2]), zeros([3])]);
    expect(Array.from(gb.dataSync())).toEqual([0, 0, 0]);
    expect(() => grad(() => ones([1]).sum(), [ones([1])])).toThrow('grad: f(...) does not depend on its inputs');
  });
});
