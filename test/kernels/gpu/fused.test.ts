// GPU = CPU for the fused transformer kernels in every gpu.js mode that works here: RMSNorm, RoPE
// (shared and per-batch tables), SwiGLU and cross-entropy (every reduction, ignored rows), forward and
// gradients; and three AdamW steps, which update parameter and moments in place.
import fc from 'fast-check';
import { it } from 'vitest';
import { adamwUpdate_, crossEntropy, rmsNorm, rope, swiglu } from '../../../core/index.js';
import { tensorSpec } from '../../../core/testing/index.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

const dim = (max: number) => fc.integer({ min: 1, max });

const normCases = fc
  .tuple(fc.array(dim(3), { maxLength: 2 }), dim(8))
  .chain(([lead, C]) => fc.tuple(tensorSpec([...lead, C]), tensorSpec([C])).map((inputs) => ({ inputs, attrs: {} })));

const ropeCases = fc.record({ B: dim(2), NH: dim(2), T: dim(4), half: dim(3), perBatch: fc.boolean() }).chain((c) => {
  const table = c.perBatch ? [c.B, c.T, 2 * c.half] : [c.T, 2 * c.half];
  return fc
    .tuple(tensorSpec([c.B, c.NH, c.T, 2 * c.half]), tensorSpec(table), tensorSpec(table))
    .map(([x, cos, sin]) => ({ inputs: [x, { ...cos, kind: 'const' as const }, { ...sin, kind: 'const' as const }], attrs: {} }));
});

const swigluCases = fc
  .array(dim(4), { minLength: 1, maxLength: 3 })
  .chain((s) => fc.tuple(tensorSpec(s), tensorSpec(s)).map((inputs) => ({ inputs, attrs: {} })));

const ceCases = fc
  .record({ N: dim(5), V: dim(7), reduction: fc.constantFrom('mean', 'sum', 'none') })
  .chain((c) =>
    fc
      .tuple(tensorSpec([c.N, c.V], { min: -5, max: 5 }), tensorSpec([c.N], { min: -1, max: c.V - 1, integer: true }))
      .map(([logits, t]) => ({ inputs: [logits, { ...t, kind: 'int32' as const }], attrs: c })),
  );

const contiguous = <T extends { layout: unknown }>(s: T) => ({ ...s, layout: { kind: 'contiguous' as const } });
const adamwCases = dim(12).chain((n) =>
  fc
    .tuple(
      tensorSpec([n]),
      tensorSpec([n]),
      tensorSpec([n]),
      tensorSpec([n], { min: 0, max: 2 }),
      fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
      fc.double({ min: 0, max: 0.2, noNaN: true }),
    )
    .map(([p, g, m, v, lr, wd]) => ({
      inputs: [p, g, m, v].map((s) => ({ ...contiguous(s), kind: 'const' as const })),
      attrs: { lr, wd },
    })),
);

forEachMode((gpu) => {
  it('rmsNorm and swiglu = CPU, with gradients (rmsNormBackward, swigluBackward)', async () => {
    await parity({
      name: 'rmsNorm',
      backend: gpu(),
      cases: normCases,
      tol: TOL.fused,
      grad: true,
      fn: ([x, w]) => rmsNorm(x!, w!, 1e-5),
    });
    await parity({
      name: 'swiglu',
      backend: gpu(),
      cases: swigluCases,
      tol: TOL.fused,
      grad: true,
      fn: ([g, u]) => swiglu(g!, u!),
    });
  });

  it('rope = CPU with [T, HS] and [B, T, HS] tables, with gradients', async () => {
    await parity({
      name: 'rope',
      backend: gpu(),
      cases: ropeCases,
      tol: TOL.reduction,
      grad: true,
      fn: ([x, c, s]) => rope(x!, c!, s!),
    });
  });

  it('crossEntropy = CPU for mean/sum/none with ignored rows, with gradients (crossEntropyBackward)', async () => {
    await parity({
      name: 'crossEntropy',
      backend: gpu(),
      cases: ceCases,
      tol: TOL.fused,
      grad: true,
      fn: ([logits, t], { reduction }) => crossEntropy(logits!, t!, { ignoreIndex: -1, reduction }),
    });
  });

  it('three AdamW steps in place = CPU', async () => {
    await parity({
      name: 'adamw',
      backend: gpu(),
      cases: adamwCases,
      tol: TOL.reduction,
      labels: ['param', 'm', 'v'],
      fn: ([p0, g, m0, v0], { lr, wd }) => {
        const [p, m, v] = [p0!.clone(), m0!.clone(), v0!.clone()];
        for (let step = 1; step <= 3; step++)
          adamwUpdate_(p, g!, m, v, { lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: wd, step });
        return [p, m, v];
      },
    });
  });
});

itSomeModeWorks();
