// softmax / logSoftmax over any axis and crossEntropy (class indices with ignoreIndex, soft targets,
// reductions): forward against max-subtracted plain formulas, gradients by finite differences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropy, tensor, zeros } from '../../core/index.js';
import { axis, checkOp, checkProperty, ndarray, shape, tensorSpec } from '../../core/testing/index.js';

function refSoftmax(line: number[]): number[] {
  const m = Math.max(...line);
  const e = line.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function refLogSoftmax(line: number[]): number[] {
  const m = Math.max(...line);
  const lse = m + Math.log(line.reduce((a, v) => a + Math.exp(v - m), 0));
  return line.map((v) => v - lse);
}

const axisCases = (max = 3) =>
  shape({ minRank: 1, maxRank: 3 }).chain((s) =>
    fc.tuple(tensorSpec(s, { min: -max, max }), axis(s.length)).map(([x, a]) => ({ inputs: [x], attrs: { a } })),
  );

describe('softmax / logSoftmax', () => {
  it('softmax over any axis', () => {
    checkOp({
      name: 'softmax',
      cases: axisCases(),
      fn: ([x], { a }) => x.softmax(a),
      reference: ([x], { a }) => ndarray.alongAxis(x, a, refSoftmax),
    });
  });

  it('logSoftmax over any axis', () => {
    checkOp({
      name: 'logSoftmax',
      cases: axisCases(),
      fn: ([x], { a }) => x.logSoftmax(a),
      reference: ([x], { a }) => ndarray.alongAxis(x, a, refLogSoftmax),
    });
  });

  it('large logits (|x| up to 1e4) neither overflow nor lose the answer', () => {
    checkOp({
      name: 'softmax(extreme)',
      cases: axisCases(1e4),
      fn: ([x], { a }) => x.logSoftmax(a),
      reference: ([x], { a }) => ndarray.alongAxis(x, a, refLogSoftmax),
      grad: false,
      forwardTol: { float32: { atol: 1e-2, rtol: 1e-5 }, float64: { atol: 1e-9, rtol: 1e-12 } },
    });
    const y = tensor([1000, 0, -1000]).softmax(0).dataSync();
    expect(Array.from(y)).toEqual([1, 0, 0]);
  });

  it('law: softmax rows sum to 1 and are non-negative', () => {
    checkProperty(axisCases(50), ({ inputs: [x], attrs: { a } }) => {
      const t = tensor(Float64Array.from(x.values), { shape: x.shape });
      const p = t.softmax(a);
      for (const v of p.sum(a).dataSync()) expect(Math.abs(v - 1)).toBeLessThan(1e-12);
      for (const v of p.dataSync()) expect(v).toBeGreaterThanOrEqual(0);
    });
  });
});

describe('crossEntropy', () => {
  /** logits [..., C] with int32 targets in [0, C) or ignoreIndex. */
  const ceCases = fc.tuple(shape({ minRank: 0, maxRank: 2 }), fc.integer({ min: 1, max: 5 })).chain(([lead, C]) =>
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
      cases: ceCases.filter((c) => c.attrs.reduction !== 'mean' || c.inputs[1].values.some((v) => v !== -100)),
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
