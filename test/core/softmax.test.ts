// softmax / logSoftmax over any axis: forward against max-subtracted plain formulas (also for logits far
// beyond exp's range), gradients by finite differences, and the law that rows sum to 1.
// (crossEntropy, built on logSoftmax, is in loss.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/index.js';
import { axis, checkOp, checkProperty, ndarray, shape, tensorSpec } from '../../core/testing/index.js';
import { refLogSoftmax } from './reference_math.js';

function refSoftmax(line: number[]): number[] {
  const m = Math.max(...line);
  const e = line.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
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
