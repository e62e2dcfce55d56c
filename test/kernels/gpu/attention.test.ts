// GPU = CPU for attention, forward and dq/dk/dv, in every gpu.js mode that works here: GQA, causal
// with a KV-cache offset, additive masks broadcast over any of [B, NH, Tq] (including −∞ entries),
// and the same with the queries split into many chunks (a tiny score budget).
import fc from 'fast-check';
import { afterAll, it } from 'vitest';
import { arange, attention, where } from '../../../core/index.js';
import { tensorSpec } from '../../../core/testing/index.js';
import { attentionTuning } from '../../../kernels/gpu/attention.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

const budget = attentionTuning.scoreBudget;
afterAll(() => {
  attentionTuning.scoreBudget = budget;
});

const cases = fc
  .record({
    B: fc.integer({ min: 1, max: 2 }),
    KVH: fc.integer({ min: 1, max: 2 }),
    rep: fc.integer({ min: 1, max: 2 }),
    Tq: fc.integer({ min: 1, max: 5 }),
    extra: fc.integer({ min: 0, max: 4 }),
    HS: fc.constantFrom(1, 2, 4, 8),
    causal: fc.boolean(),
    mask: fc.option(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), { nil: null }),
  })
  .chain(({ extra, mask, ...d }) => {
    const Tk = d.causal ? d.Tq + extra : Math.max(1, extra);
    const NH = d.KVH * d.rep;
    const mshape = mask ? [mask[0] ? d.B : 1, mask[1] ? NH : 1, mask[2] ? d.Tq : 1, Tk] : [1];
    const attrs = { causal: d.causal, offset: d.causal ? extra : 0, mask: mask !== null };
    return fc
      .tuple(
        tensorSpec([d.B, NH, d.Tq, d.HS]),
        tensorSpec([d.B, d.KVH, Tk, d.HS]),
        tensorSpec([d.B, d.KVH, Tk, d.HS]),
        tensorSpec(mshape),
      )
      .map(([q, k, v, m]) => ({ inputs: mask ? [q, k, v, { ...m, kind: 'const' as const }] : [q, k, v], attrs }));
  });

forEachMode((gpu) => {
  const check = () =>
    parity({
      name: 'attention',
      backend: gpu(),
      cases,
      tol: TOL.fused,
      grad: true,
      fn: ([q, k, v, m], { causal, offset }) => {
        // Drop keys with −∞ where the mask is large (a padding mask), never key 0, so no row is empty.
        const keys = m ? arange(m.shape.at(-1)!, undefined, 1, { backend: m.storage.backend }) : null;
        const mask = m && keys ? where(m.gt(1.5).logicalAnd(keys.gt(0)), -Infinity, m) : undefined;
        return attention(q!, k!, v!, { causal, offset, mask });
      },
    });

  it('attention = CPU: GQA, causal with offset, masks, gradients (attentionBackward)', async () => {
    attentionTuning.scoreBudget = budget;
    await check();
  });

  it('attention = CPU with the queries in many chunks', async () => {
    attentionTuning.scoreBudget = 8;
    await check();
    attentionTuning.scoreBudget = budget;
  });
});

itSomeModeWorks();
