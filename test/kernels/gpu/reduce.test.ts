// GPU = CPU for the reductions, scans, softmax and sorts in every gpu.js mode that works here: one
// axis of a strided input, keepdim or not, with gradients where the op has one.
import fc from 'fast-check';
import { it } from 'vitest';
import { axis, shape, tensorSpec } from '../../../core/testing/index.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

const cases = (opts = {}) =>
  tensorSpec(shape({ minRank: 1, maxRank: 3, maxDim: 5 }), opts).chain((x) =>
    fc.record({ ax: axis(x.shape.length), keep: fc.boolean(), desc: fc.boolean() }).map((attrs) => ({ inputs: [x], attrs })),
  );

forEachMode((gpu) => {
  it('sum, max, min, cumsum (both ways), softmax, logSoftmax = CPU, with gradients', async () => {
    await parity({
      name: 'reductions',
      backend: gpu(),
      cases: cases(),
      tol: TOL.fused,
      grad: true,
      labels: ['sum', 'max', 'min', 'mean', 'cumsum', 'softmax', 'logSoftmax', 'logsumexp'],
      fn: ([x], { ax, keep }) => [
        x!.sum(ax, keep),
        x!.max(ax, keep),
        x!.min(ax, keep),
        x!.mean(ax, keep),
        x!.cumsum(ax),
        x!.softmax(ax),
        x!.logSoftmax(ax),
        x!.logsumexp(ax, keep),
      ],
    });
  });

  it('argmax, argmin, argsort and topk = CPU exactly (ties keep the first index)', async () => {
    await parity({
      name: 'arg',
      backend: gpu(),
      cases: cases({ min: -3, max: 3, integer: true }),
      tol: TOL.exact,
      labels: ['argmax', 'argmin', 'argsort', 'topk values', 'topk indices'],
      fn: ([x], { ax, keep, desc }) => {
        const k = Math.min(2, x!.shape.at(ax)!);
        const top = x!.topk(k, ax, desc);
        return [x!.argmax(ax, keep), x!.argmin(ax, keep), x!.argsort(ax, desc), top.values, top.indices];
      },
    });
  });
});

itSomeModeWorks();
