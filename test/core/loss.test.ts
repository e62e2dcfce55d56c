// crossEntropy: the fused op equals its composition (forward and gradient, every reduction, ignored
// targets) and finite differences; class-index and soft targets against a max-subtracted plain formula;
// extremes, a hand-computed value and the errors for bad targets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyReference, tensor, zeros } from '../../core/index.js';
import { checkFused, checkOp, shape, tensorSpec } from '../../core/testing/index.js';
import { refLogSoftmax } from './reference_math.js';

const ceCases = fc.tuple(shape({ minRank: 0, maxRank: 2, maxDim: 3 }), fc.integer({ min: 1, max: 9 })).chain(([lead, C]) =>
  fc
    .tuple(
      tensorSpec([...lead, C], { min: -8, max: 8 }),
      tensorSpec(lead, { integer: true, min: -1, max: C - 1 }),
      fc.constantFrom<'mean' | 'sum' | 'none'>('mean', 'sum', 'none'),
    )
    .filter(([, t, reduction]) => reduction !== 'mean' || t.values.some((v) => v !== -1))
    .map(([logits, t, reduction]) => ({
      inputs: [logits, { ...t, values: t.values.map((v) => (v === -1 ? -100 : v)), kind: 'int32' as const }],
      attrs: { reduction },
    })),
);

describe('crossEntropy', () => {
  it('fused = logSoftmax/gather/masked-mean composition, forward and gradient', () => {
    checkFused({
      name: 'crossEntropy',
      cases: ceCases,
      fused: ([l, t], { reduction }) => crossEntropy(l, t, { reduction }),
      reference: ([l, t], { reduction }) => crossEntropyReference(l, t, { reduction }),
    });
  });

  it('gradient = finite differences', () => {
    checkOp({ name: 'crossEntropy', cases: ceCases, fn: ([l, t], { reduction }) => crossEntropy(l, t, { reduction }) });
  });

  it('stays finite for logits far beyond exp range', () => {
    const l = tensor([[1e4, 0, -1e4]], { dtype: 'float32' });
    expect(crossEntropy(l, tensor([0], { dtype: 'int32' })).itemSync()).toBe(0);
    expect(crossEntropy(l, tensor([1], { dtype: 'int32' })).itemSync()).toBe(1e4);
  });

  /** logits [..., C] with int32 targets in [0, C) or ignoreIndex. */
  const formulaCases = fc.tuple(shape({ minRank: 0, maxRank: 2 }), fc.integer({ min: 1, max: 5 })).chain(([lead, C]) =>
    fc
      .tuple(
        tensorSpec([...lead, C]),
        tensorSpec(lead, { integer: true, min: -1, max: C - 1 }),
        fc.constantFrom('mean', 'sum', 'none'),
      )
      .map(([logits, t, reduction]) => ({
        // -1 stands for "ignored": mapped to the ignore index.
        inputs: [logits, { ...t, values: t.values.map((v) => (v === -1 ? -100 : v)), kind: 'int32' as const }],
        attrs: { reduction: reduction as 'mean' | 'sum' | 'none' },
      })),
  );

  it('class indices with ignoreIndex, every reduction (mean over non-ignored targets)', () => {
    checkOp({
      name: 'crossEntropy',
      cases: formulaCases.filter((c) => c.attrs.reduction !== 'mean' || c.inputs[1].values.some((v) => v !== -100)),
      fn: ([logits, t], { reduction }) => crossEntropy(logits, t, { ignoreIndex: -100, reduction }),
      reference: ([logits, t], { reduction }) => {
        const C = logits.shape[logits.shape.length - 1];
        const losses = t.data.map((target, r) =>
          target === -100 ? 0 : -refLogSoftmax(logits.data.slice(r * C, (r + 1) * C))[target],
        );
        if (reduction === 'none') return { shape: t.shape, data: losses };
        const total = losses.reduce((a, b) => a + b, 0);
        const valid = t.data.filter((v) => v !== -100).length;
        return { shape: [], data: [reduction === 'sum' ? total : total / valid] };
      },
    });
  });

  it('soft targets (class probabilities shaped like the logits)', () => {
    const cases = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }))
      .chain(([N, C]) =>
        fc.tuple(tensorSpec([N, C]), tensorSpec([N, C], { min: 0, max: 1 })).map((inputs) => ({ inputs, attrs: {} })),
      );
    checkOp({
      name: 'crossEntropy(soft)',
      cases,
      fn: ([logits, p]) => crossEntropy(logits, p),
      reference: ([logits, p]) => {
        const [N, C] = logits.shape;
        let total = 0;
        for (let r = 0; r < N; r++) {
          const lp = refLogSoftmax(logits.data.slice(r * C, (r + 1) * C));
          lp.forEach((v, c) => (total -= p.data[r * C + c] * v));
        }
        return { shape: [], data: [total / N] };
      },
    });
  });

  it('matches a hand-computed value; all-ignored mean is NaN (as PyTorch); bad targets are clear errors', () => {
    const logits = tensor(
      [
        [0, 0],
        [Math.log(3), 0],
      ],
      { dtype: 'float64' },
    );
    const loss = crossEntropy(logits, tensor([0, 0], { dtype: 'int32' }));
    expect(loss.itemSync()).toBeCloseTo((Math.log(2) + Math.log(4 / 3)) / 2, 14);
    expect(crossEntropy(logits, tensor([-100, -100], { dtype: 'int32' })).itemSync()).toBeNaN();
    expect(() => crossEntropy(logits, tensor([0, 2], { dtype: 'int32' }))).toThrow(
      /crossEntropy: .*neither a class in \[0, 2\) nor ignoreIndex -100/,
    );
    expect(() => crossEntropy(logits, tensor([0, 1]))).toThrow(/class-index targets must be int32, got float32/);
    expect(() => crossEntropy(logits, zeros([3], { dtype: 'int32' }))).toThrow(
      'crossEntropy: targets [3] must be [2] (class indices) or [2,2] (probabilities)',
    );
  });
});
