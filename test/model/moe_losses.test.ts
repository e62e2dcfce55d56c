// The losses and statistics on router logits (model/moe_losses.ts): load-balancing and z-loss gradients
// equal finite differences (several layers pooled), the aux loss equals HF's on the golden data, and the
// expert load counts assignments and the ones a capacity drops (which the fused experts op zeroes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linear, moeExperts, randn, routeTopK, tensor } from '../../core/index.js';
import { checkOp, tensorSpec } from '../../core/testing/index.js';
import { expertLoad, loadBalancingLoss, routerZLoss } from '../../model/moe_losses.js';
import { golden } from '../helpers/golden.js';

describe('losses on router logits', () => {
  it('load-balancing and z losses: gradients (several layers pooled)', () => {
    const layers = fc.record({ N: fc.integer({ min: 1, max: 5 }), E: fc.integer({ min: 2, max: 5 }) }).chain(({ N, E }) =>
      fc
        .tuple(tensorSpec([N, E], { distinct: true }), tensorSpec([N + 1, E], { distinct: true }), fc.integer({ min: 1, max: E }))
        .map(([a, b, k]) => ({
          inputs: [a, b],
          attrs: { E, k },
        })),
    );
    checkOp({ name: 'loadBalancingLoss', cases: layers, fn: ([a, b], { E, k }) => loadBalancingLoss([a, b], E, k), numRuns: 40 });
    checkOp({ name: 'routerZLoss', cases: layers, fn: ([a, b]) => routerZLoss([a, b]), numRuns: 40 });
  });

  for (const variant of ['qwen3moe_tiny', 'qwen3moe_tiny_dense0']) {
    it(`reproduces HF's aux loss (${variant})`, () => {
      const g = golden(variant);
      const { num_experts: E, num_experts_per_tok: k } = g.config;
      for (const c of ['A', 'B']) {
        const logits = g.json.moe_layers.map((i: number) => g.t(`${c}.ref.router_logits.layer${i}`));
        const aux = loadBalancingLoss(logits, E, k).itemSync();
        expect(Math.abs(aux - g.json.scalars[c].ref.aux_loss) / g.json.scalars[c].ref.aux_loss).toBeLessThan(1e-5);
      }
    });
  }

  it('clear errors: no sparse layer, or logits with another expert count', () => {
    expect(() => routerZLoss([])).toThrow('moe loss: no router logits (the model has no sparse layer)');
    expect(() => loadBalancingLoss([randn([3, 4])], 5, 2)).toThrow('loadBalancingLoss: logits have 4 experts, expected 5');
  });
});

describe('expert load', () => {
  it('counts assignments and drops', () => {
    const load = expertLoad(
      tensor(
        [
          [0, 1],
          [0, 2],
          [0, 1],
        ],
        { dtype: 'int32' },
      ),
      4,
      2,
    );
    expect(load).toEqual({ tokensPerExpert: [3, 2, 1, 0], dropped: [1, 0, 0, 0], dropRate: 1 / 6 });
  });

  it('capacity: dropped assignments contribute nothing, and are counted', () => {
    const x = randn([6, 4], { dtype: 'float64' }).abs();
    // A router that sends every token (x ≥ 0) to expert 0; a capacity of 3 (Switch Transformer's
    // capacity factor 1: ⌈1 · N·K/E⌉ = ⌈6/2⌉) keeps the first three.
    const router = tensor(
      [
        [1, 0, 0, 0],
        [0, 0, 0, 0],
      ],
      { dtype: 'float64' },
    ).mul(100);
    const experts = {
      gate: randn([2, 3, 4], { dtype: 'float64' }),
      up: randn([2, 3, 4], { dtype: 'float64' }),
      down: randn([2, 4, 3], { dtype: 'float64' }),
    };
    const { weights, indices } = routeTopK(linear(x, router), 1, true);
    const out = moeExperts(x, weights, indices, experts, { capacity: 3 });
    const load = expertLoad(indices, 2, 3);
    expect(load.tokensPerExpert).toEqual([6, 0]);
    expect(load.dropped).toEqual([3, 0]);
    const rows = out.toArraySync() as number[][];
    expect(rows.slice(0, 3).every((row) => row.some((v) => v !== 0))).toBe(true);
    expect(rows.slice(3).every((row) => row.every((v) => v === 0))).toBe(true);
  });
});
