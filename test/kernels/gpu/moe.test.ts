// GPU = CPU for the mixture-of-experts kernels in every gpu.js mode that works here: the fused experts
// op (dispatch, grouped SwiGLU, combine) with and without a capacity, experts that receive no token,
// and the whole routed block (softmax top-k, with and without norm_topk_prob) — forward and the
// gradients of x, the routing weights or router logits, and every expert's gate/up/down.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { moeExperts, routeTopK, tensor } from '../../../core/index.js';
import { tensorSpec } from '../../../core/testing/index.js';
import { moeExpertCases, moeSizes } from '../../helpers/moe_cases.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

/** E up to 6 experts and N up to 7 tokens, so some experts often get no token. */
const sizes = moeSizes(7);
const expertCases = moeExpertCases(7);

/** x, router logits far enough apart that both backends pick the same top-k, stacked experts. */
const blockCases = sizes.chain(({ N, H, I, E, K, capped, cap }) =>
  fc
    .tuple(
      tensorSpec([N, H]),
      tensorSpec([N, E], { distinct: true }),
      tensorSpec([E, I, H]),
      tensorSpec([E, I, H]),
      tensorSpec([E, H, I]),
      fc.boolean(),
    )
    .map(([x, logits, g, u, d, norm]) => ({ inputs: [x, logits, g, u, d], attrs: { K, norm, capacity: capped ? cap : -1 } })),
);

const capacityOf = (c: number) => ({ capacity: c < 0 ? undefined : c });

forEachMode((gpu) => {
  it('moe experts = CPU: dropless and with capacity, gradients of x, weights, gate, up and down (moeBackward)', async () => {
    await parity({
      name: 'moe',
      backend: gpu(),
      cases: expertCases,
      tol: TOL.fused,
      grad: true,
      fn: ([x, w, idx, gate, up, down], { capacity }) =>
        moeExperts(x!, w!, idx!, { gate: gate!, up: up!, down: down! }, capacityOf(capacity)),
    });
  });

  it('the routed block (softmax top-k, norm_topk_prob on and off, capacity) = CPU, router gradients included', async () => {
    await parity({
      name: 'moe block',
      backend: gpu(),
      cases: blockCases,
      tol: TOL.fused,
      grad: true,
      fn: ([x, logits, gate, up, down], { K, norm, capacity }) => {
        const r = routeTopK(logits!, K, norm);
        return moeExperts(x!, r.weights, r.indices, { gate: gate!, up: up!, down: down! }, capacityOf(capacity));
      },
    });
  });

  it('an expert with no token gets exactly zero gradient; a bad expert index is an error', async () => {
    const b = gpu();
    const on = (v: number[], shape: number[]) => tensor(v, { shape, backend: b, requiresGrad: true });
    const x = tensor([1, 2, -1, 0.5, 3, -2], { shape: [3, 2], backend: b });
    const w = tensor([1, 0.5, 2], { shape: [3, 1], backend: b });
    const gate = on([0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2], [3, 2, 2]);
    const up = on([0.3, 0.2, -0.1, 0.4, 0.2, 0.6, -0.7, 0.1, 0.9, -1.0, 0.5, 0.2], [3, 2, 2]);
    const down = on([0.5, -0.5, 0.25, 1, -1, 0.75, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [3, 2, 2]);
    moeExperts(x, w, tensor([[0], [2], [0]], { dtype: 'int32', backend: b }), { gate, up, down })
      .sum()
      .backward();
    for (const p of [gate, up, down]) {
      const g = await p.grad!.data();
      expect(Array.from(g.subarray(4, 8)), 'expert 1').toEqual([0, 0, 0, 0]);
      expect(
        Array.from(g.subarray(0, 4)).some((v) => v !== 0),
        'expert 0',
      ).toBe(true);
    }
    if (b.readSync) {
      expect(() => moeExperts(x, w, tensor([[0], [3], [0]], { dtype: 'int32', backend: b }), { gate, up, down })).toThrow(
        'moe: expert index 3 of assignment 1 is out of range for 3 experts',
      );
    } else {
      const y = moeExperts(x, w, tensor([[0], [3], [0]], { dtype: 'int32', backend: b }), { gate, up, down });
      await expect(y.data()).rejects.toThrow('moe: expert index 3 of assignment 1 is out of range for 3 experts');
    }
  });
});

itSomeModeWorks();
