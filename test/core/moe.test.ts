// Mixture of experts: the fused dispatch/grouped-matmul/combine op equals HF's per-expert loop
// (forward and every gradient, with and without capacity dropping), its gradients equal finite
// differences, the router reproduces HF's routing and aux loss on the golden data, and the laws hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expertLoad,
  loadBalancingLoss,
  moeExperts,
  randn,
  routeTopK,
  routerZLoss,
  sparseMoe,
  tensor,
  type Tensor,
} from '../../core/index.js';
import { MoeExperts } from '../../core/ops/index.js';
import { checkFused, checkOp, checkProperty, tensorSpec } from '../../core/testing/index.js';
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

describe('router and losses', () => {
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
    it(`reproduces HF's routing decisions, weights and aux loss (${variant})`, () => {
      const g = golden(variant);
      const { num_experts: E, num_experts_per_tok: k, norm_topk_prob: norm } = g.config;
      for (const c of ['A', 'B']) {
        const logits = g.json.moe_layers.map((i: number) => g.t(`${c}.ref.router_logits.layer${i}`));
        g.json.moe_layers.forEach((layer: number, i: number) => {
          const r = routeTopK(logits[i], k, norm);
          expect(Array.from(r.indices.dataSync())).toEqual(Array.from(g.t(`${c}.ref.routing.selected.layer${layer}`).dataSync()));
          const want = g.t(`${c}.ref.routing.weights.layer${layer}`).dataSync();
          r.weights.dataSync().forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThan(1e-6));
        });
        const aux = loadBalancingLoss(logits, E, k).itemSync();
        expect(Math.abs(aux - g.json.scalars[c].ref.aux_loss) / g.json.scalars[c].ref.aux_loss).toBeLessThan(1e-5);
      }
    });
  }

  it('expert load counts assignments and drops', () => {
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
});

describe('laws', () => {
  const mlp = (x: Tensor, g: Tensor, u: Tensor, d: Tensor) => x.matmul(g.mT).silu().mul(x.matmul(u.mT)).matmul(d.mT);

  it('one expert, top-1 = the dense SwiGLU MLP with the same weights', () => {
    checkProperty(fc.record({ N: fc.integer({ min: 1, max: 20 }), norm: fc.boolean() }), ({ N, norm }) => {
      const x = randn([N, 8], { dtype: 'float64' });
      const p = {
        router: randn([1, 8], { dtype: 'float64' }),
        gate: randn([1, 5, 8], { dtype: 'float64' }),
        up: randn([1, 5, 8], { dtype: 'float64' }),
        down: randn([1, 8, 5], { dtype: 'float64' }),
      };
      const moe = sparseMoe(x, p, { k: 1, normTopkProb: norm }).out.dataSync();
      const dense = mlp(x, p.gate.select(0, 0), p.up.select(0, 0), p.down.select(0, 0)).dataSync();
      moe.forEach((v, i) => expect(v).toBeCloseTo(dense[i], 10));
    });
  });

  it('permuting the experts (and router rows) changes nothing', () => {
    checkProperty(
      fc.record({ N: fc.integer({ min: 1, max: 12 }), E: fc.integer({ min: 2, max: 6 }), seed: fc.nat() }),
      ({ N, E, seed }) => {
        const k = 1 + (seed % Math.min(E, 3));
        const x = randn([N, 6], { dtype: 'float64' });
        const p = {
          router: randn([E, 6], { dtype: 'float64' }),
          gate: randn([E, 4, 6], { dtype: 'float64' }),
          up: randn([E, 4, 6], { dtype: 'float64' }),
          down: randn([E, 6, 4], { dtype: 'float64' }),
        };
        const perm = tensor(
          [...Array(E).keys()].sort((a, b) => ((a * 7 + seed) % E) - ((b * 7 + seed) % E)),
          { dtype: 'int32' },
        );
        const q = {
          router: p.router.indexSelect(0, perm),
          gate: p.gate.indexSelect(0, perm),
          up: p.up.indexSelect(0, perm),
          down: p.down.indexSelect(0, perm),
        };
        const a = sparseMoe(x, p, { k, normTopkProb: true }).out.dataSync();
        const b = sparseMoe(x, q, { k, normTopkProb: true }).out.dataSync();
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 10));
      },
    );
  });

  it('top-k with K = E and renormalisation = the full softmax mixture', () => {
    const [N, E] = [5, 4];
    const x = randn([N, 6], { dtype: 'float64' });
    const p = {
      router: randn([E, 6], { dtype: 'float64' }),
      gate: randn([E, 3, 6], { dtype: 'float64' }),
      up: randn([E, 3, 6], { dtype: 'float64' }),
      down: randn([E, 6, 3], { dtype: 'float64' }),
    };
    const got = sparseMoe(x, p, { k: E, normTopkProb: true }).out.dataSync();
    const probs = x.matmul(p.router.mT).softmax(-1);
    let want = x.mul(0);
    for (let e = 0; e < E; e++)
      want = want.add(mlp(x, p.gate.select(0, e), p.up.select(0, e), p.down.select(0, e)).mul(probs.narrow(1, e, 1)));
    want.dataSync().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 10));
  });

  it('capacity: dropped assignments contribute nothing, and are counted', () => {
    const x = randn([6, 4], { dtype: 'float64' });
    const p = {
      router: tensor(
        [
          [1, 0, 0, 0],
          [0, 0, 0, 0],
        ],
        { dtype: 'float64' },
      ).mul(100),
      gate: randn([2, 3, 4], { dtype: 'float64' }),
      up: randn([2, 3, 4], { dtype: 'float64' }),
      down: randn([2, 4, 3], { dtype: 'float64' }),
    };
    const r = sparseMoe(x.abs(), p, { k: 1, normTopkProb: true, capacityFactor: 1 });
    expect(r.capacity).toBe(3);
    const load = expertLoad(r.routing.indices, 2, r.capacity);
    expect(load.tokensPerExpert).toEqual([6, 0]);
    expect(load.dropped).toEqual([3, 0]);
    const rows = r.out.toArraySync() as number[][];
    expect(rows.slice(3).every((row) => row.every((v) => v === 0))).toBe(true);
  });
});
