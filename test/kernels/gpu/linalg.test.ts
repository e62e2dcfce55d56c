// GPU = CPU for matmul (batched with broadcasting, either operand transposed as a view) and linear
// (bias, residual, every activation), forward and gradients, in every gpu.js mode that works here.
import fc from 'fast-check';
import { it } from 'vitest';
import { linear } from '../../../core/index.js';
import { broadcastShapes, tensorSpec } from '../../../core/testing/index.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

const dim = fc.integer({ min: 1, max: 5 });

const matmulCases = fc
  .tuple(broadcastShapes(2, { maxRank: 2, maxDim: 3 }), dim, dim, dim, fc.boolean(), fc.boolean())
  .chain(([[ba, bb], M, K, N, ta, tb]) =>
    fc
      .tuple(tensorSpec(ta ? [...ba!, K, M] : [...ba!, M, K]), tensorSpec(tb ? [...bb!, N, K] : [...bb!, K, N]))
      .map(([a, b]) => ({ inputs: [a, b], attrs: { ta, tb } })),
  );

const linearCases = fc
  .record({
    lead: fc.array(dim, { maxLength: 2 }),
    K: dim,
    N: dim,
    bias: fc.boolean(),
    residual: fc.boolean(),
    act: fc.constantFrom('none', 'silu', 'gelu', 'gelu_tanh'),
  })
  .chain((c) =>
    fc
      .tuple(tensorSpec([...c.lead, c.K]), tensorSpec([c.N, c.K]), tensorSpec([c.N]), tensorSpec([...c.lead, c.N]))
      .map(([x, w, b, r]) => ({ inputs: [x, w, ...(c.bias ? [b] : []), ...(c.residual ? [r] : [])], attrs: c })),
  );

forEachMode((gpu) => {
  it('matmul = CPU: broadcast batches, transposed views, gradients', async () => {
    await parity({
      name: 'matmul',
      backend: gpu(),
      cases: matmulCases,
      tol: TOL.reduction,
      grad: true,
      fn: ([a, b], { ta, tb }) => (ta ? a!.mT : a!).matmul(tb ? b!.mT : b!),
    });
  });

  it('linear = CPU: bias, residual, silu/gelu/gelu_tanh, gradients', async () => {
    await parity({
      name: 'linear',
      backend: gpu(),
      cases: linearCases,
      tol: TOL.reduction,
      grad: true,
      fn: (xs, c) =>
        linear(xs[0]!, xs[1]!, c.bias ? xs[2] : undefined, { activation: c.act, residual: c.residual ? xs.at(-1) : undefined }),
    });
  });
});

itSomeModeWorks();
