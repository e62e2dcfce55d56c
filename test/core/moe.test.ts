// Mixture of experts in core: the fused dispatch/grouped-matmul/combine op equals HF's per-expert loop
// (forward and every gradient, with and without capacity dropping), its gradients equal finite
// differences, and routeTopK reproduces HF's routing on the golden data. The model's sparse block, its
// laws and the losses on router logits are tested in test/model/ (qwen3_moe, moe_losses).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { moeExperts, randn, routeTopK, tensor, type Tensor } from '../../core/index.js';
import { MoeExperts } from '../../core/ops/index.js';
import { checkFused, checkOp, tensorSpec } from '../../core/testing/index.js';
import { golden } from '../helpers/golden.js';
import { moeExpertCases, type MoeCase } from '../helpers/moe_cases.js';

const cases = (maxN = 10) => moeExpertCases(maxN);

const fused = ([x, w, idx, gate, up, down]: Tensor[], { capacity }: MoeCase) =>
  moeExperts(x, w, idx, { gate, up, down }, { capacity: capacity < 0 ? undefined : capacity });
const reference = ([x, weights, indices, gate, up, down]: Tensor[], attrs: MoeCase) =>
  MoeExperts.reference!({ x, weights, indices, gate, up, down }, attrs);

describe('fused MoE = HF per-expert loop', () => {
  it('forward and gradients of x, routing weights and every expert (dropless and with capacity)', () => {
    checkFused({ name: 'moe', cases: cases(), fused, reference, numRuns: 60 });
  });

  it('gradients = float64 finite differences', () => {
    checkOp({ name: 'moe', cases: cases(4), fn: fused, numRuns: 40 });
  });

  it('experts that receive no token get exactly zero gradient; bad indices are clear errors', () => {
    const x = randn([3, 4], { dtype: 'float64' });
    const w = tensor([[1], [1], [1]], { dtype: 'float64' });
    const gate = randn([3, 2, 4], { dtype: 'float64', requiresGrad: true });
    const up = randn([3, 2, 4], { dtype: 'float64', requiresGrad: true });
    const down = randn([3, 4, 2], { dtype: 'float64', requiresGrad: true });
    moeExperts(x, w, tensor([[0], [2], [0]], { dtype: 'int32' }), { gate, up, down })
      .sum()
      .backward();
    expect(Array.from(gate.grad!.select(0, 1).dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(down.grad!.select(0, 0).dataSync()).some((v) => v !== 0)).toBe(true);
    expect(() => moeExperts(x, w, tensor([[0], [3], [0]], { dtype: 'int32' }), { gate, up, down })).toThrow(
      'moe: expert index 3 of assignment 1 is out of range for 3 experts',
    );
  });
});

describe('router', () => {
  const logitCases = fc
    .record({ N: fc.integer({ min: 1, max: 6 }), E: fc.integer({ min: 1, max: 6 }), norm: fc.boolean() })
    .chain(({ N, E, norm }) =>
      fc
        .integer({ min: 1, max: E })
        .chain((k) => tensorSpec([N, E], { distinct: true }).map((l) => ({ inputs: [l], attrs: { k, norm } }))),
    );

  it('routing weights: gradients through softmax, top-k and the renormalisation', () => {
    checkOp({ name: 'routeTopK', cases: logitCases, fn: ([l], { k, norm }) => routeTopK(l, k, norm).weights, numRuns: 60 });
  });

  for (const variant of ['qwen3moe_tiny', 'qwen3moe_tiny_dense0']) {
    it(`reproduces HF's routing decisions and weights (${variant})`, () => {
      const g = golden(variant);
      const { num_experts_per_tok: k, norm_topk_prob: norm } = g.config;
      for (const c of ['A', 'B']) {
        const logits = g.json.moe_layers.map((i: number) => g.t(`${c}.ref.router_logits.layer${i}`));
        g.json.moe_layers.forEach((layer: number, i: number) => {
          const r = routeTopK(logits[i], k, norm);
          expect(Array.from(r.indices.dataSync())).toEqual(Array.from(g.t(`${c}.ref.routing.selected.layer${layer}`).dataSync()));
          const want = g.t(`${c}.ref.routing.weights.layer${layer}`).dataSync();
          r.weights.dataSync().forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThan(1e-6));
        });
      }
    });
  }
});
