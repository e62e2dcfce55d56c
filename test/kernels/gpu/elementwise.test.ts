// GPU = CPU for the elementwise kernels in every gpu.js mode that works here: unary maps, binary maps
// (inputs broadcast, so the strided copy runs too), comparisons and logic on bool, where, cast, clamp,
// GELU, and the strided copy on permuted and padded views.
import fc from 'fast-check';
import { it } from 'vitest';
import { where, type Tensor } from '../../../core/index.js';
import { broadcastShapes, shape, tensorSpec } from '../../../core/testing/index.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

const UNARY = ['neg', 'abs', 'sign', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'silu', 'erf', 'square'] as const;
const POSITIVE = ['log', 'sqrt', 'rsqrt', 'reciprocal'] as const;
const BINARY = ['add', 'sub', 'mul', 'maximum', 'minimum'] as const;
const COMPARE = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

const one = (opts = {}) => tensorSpec(shape({ maxRank: 3 }), opts).map((x) => ({ inputs: [x], attrs: {} }));
const two = (b = {}) =>
  broadcastShapes(2, { maxRank: 3 }).chain(([sa, sb]) =>
    fc.tuple(tensorSpec(sa!), tensorSpec(sb!, b)).map(([a, bb]) => ({ inputs: [a, bb], attrs: {} })),
  );

type Method = (this: Tensor, ...args: unknown[]) => Tensor;
const call = (x: Tensor, name: string, ...args: unknown[]) =>
  ((x as unknown as Record<string, Method>)[name] as Method).call(x, ...args);

forEachMode((gpu) => {
  it('unary maps (and GELU both ways, clamp) = CPU', async () => {
    await parity({
      name: 'unary',
      backend: gpu(),
      cases: one({ min: -6, max: 6 }),
      tol: TOL.elementwise,
      grad: true,
      labels: [...UNARY, 'gelu', 'gelu tanh', 'clamp'],
      fn: ([x]) => [...UNARY.map((op) => call(x!, op)), x!.gelu(), x!.gelu('tanh'), x!.clamp(-1, 2)],
    });
    await parity({
      // The gradient sums the four ops' local gradients, which reach 1/x² = 100 (reciprocal) and
      // −x^−1.5/2 = −16 (rsqrt) at x = 0.1 and can cancel to ~0.04: its error scales with those terms, so
      // it gets the tolerance of a short float32 sum (a fast-check run found 3.8e-6 off at 0.044).
      name: 'unary on positive inputs',
      backend: gpu(),
      cases: one({ min: 0.1, max: 5 }),
      tol: TOL.elementwise,
      gradTol: TOL.reduction,
      grad: true,
      labels: POSITIVE,
      fn: ([x]) => POSITIVE.map((op) => call(x!, op)),
    });
  });

  it('binary maps over broadcast inputs = CPU, with gradients', async () => {
    await parity({
      name: 'binary',
      backend: gpu(),
      cases: two(),
      tol: TOL.elementwise,
      grad: true,
      labels: BINARY,
      fn: ([a, b]) => BINARY.map((op) => call(a!, op, b)),
    });
    await parity({
      name: 'div and pow',
      backend: gpu(),
      cases: two({ min: 0.2, max: 3 }),
      tol: TOL.elementwise,
      grad: true,
      labels: ['div', 'pow'],
      fn: ([a, b]) => [a!.div(b!), a!.abs().add(0.1).pow(b!)],
    });
  });

  it('pow of a negative base with integer exponents keeps the sign, 0^-n = ∞ (GPU pow is undefined there)', async () => {
    // (+ 0 turns −0 into 0: signed zeros are not kept apart on the GPU.)
    await parity({
      name: 'pow',
      backend: gpu(),
      cases: two({ min: -3, max: 3, integer: true }),
      tol: TOL.elementwise,
      fn: ([a, b]) => a!.add(0).pow(b!),
    });
  });

  it('comparisons, logic, where and casts = CPU exactly', async () => {
    await parity({
      name: 'compare',
      backend: gpu(),
      cases: two({ min: -2, max: 2, integer: true }),
      tol: TOL.exact,
      labels: [...COMPARE, 'logicalAnd', 'logicalOr', 'logicalNot', 'where', 'cast to int32', 'cast to bool', 'int add'],
      fn: ([a, b]) => {
        const [p, q] = [a!.gt(0), b!.le(0)];
        return [
          ...COMPARE.map((op) => call(a!, op, b)),
          p.logicalAnd(q),
          p.logicalOr(q),
          p.logicalNot(),
          where(p, a!, b!),
          a!.mul(1.7).to('int32'),
          a!.to('bool'),
          a!.to('int32').add(b!.to('int32')),
        ];
      },
    });
  });

  it('contiguous: permuted and padded views copy out exactly', async () => {
    await parity({
      name: 'contiguous',
      backend: gpu(),
      cases: one(),
      tol: TOL.exact,
      fn: ([x]) => [x!.contiguous(), x!.ndim >= 2 ? x!.transpose(0, -1).contiguous() : x!.neg()],
    });
  });
});

// Keep vitest from reporting an empty file where no mode works.
itSomeModeWorks();
