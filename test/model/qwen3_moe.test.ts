// Qwen3MoeSparseMoeBlock, the router written out in its forward: it equals core's routeTopK followed by
// the fused experts op bit for bit, and the laws hold — one expert at top-1 is the dense SwiGLU MLP,
// permuting the experts (and router rows) changes nothing, and K = E renormalised is the full softmax
// mixture. The decoder layer returns router logits exactly for the sparse layers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, linear, moeExperts, randn, routeTopK, tensor, type Tensor } from '../../core/index.js';
import { checkProperty } from '../../core/testing/index.js';
import type { Qwen3MoeConfig } from '../../model/config.js';
import { preset } from '../../model/presets.js';
import { Qwen3MoeDecoderLayer, Qwen3MoeMLP, Qwen3MoeSparseMoeBlock } from '../../model/qwen3_moe.js';
import { rotaryTables } from '../../model/modules/rotary.js';

interface Weights {
  router: Tensor; // [E, C]
  gate: Tensor; // [E, I, C]
  up: Tensor; // [E, I, C]
  down: Tensor; // [E, C, I]
}

const init = (dtype: 'float32' | 'float64' = 'float64') => ({ dtype, generator: new Generator(0), std: 0.02 });

function weights(E: number, C: number, I: number): Weights {
  const w = (...shape: number[]) => randn(shape, { dtype: 'float64' });
  return { router: w(E, C), gate: w(E, I, C), up: w(E, I, C), down: w(E, C, I) };
}

/** The model's block with `p` as its weights. */
function block(p: Weights, k: number, norm: boolean): Qwen3MoeSparseMoeBlock {
  const [E, I, C] = p.gate.shape as [number, number, number];
  const c = { hidden_size: C, num_experts: E, num_experts_per_tok: k, moe_intermediate_size: I, norm_topk_prob: norm };
  const b = new Qwen3MoeSparseMoeBlock(c, init());
  b.gate.setParameter('weight', p.router);
  b.experts.setParameter('gate_proj', p.gate);
  b.experts.setParameter('up_proj', p.up);
  b.experts.setParameter('down_proj', p.down);
  return b;
}

const mlp = (x: Tensor, g: Tensor, u: Tensor, d: Tensor) => x.matmul(g.mT).silu().mul(x.matmul(u.mT)).matmul(d.mT);

describe('Qwen3MoeSparseMoeBlock', () => {
  it('forward = routeTopK(gate(x)) then the fused experts, bit for bit; [B, T, C] in and out', () => {
    const cases = fc.record({
      B: fc.integer({ min: 1, max: 3 }),
      T: fc.integer({ min: 1, max: 5 }),
      E: fc.integer({ min: 1, max: 6 }),
      kSeed: fc.nat(),
      norm: fc.boolean(),
    });
    checkProperty(cases, ({ B, T, E, kSeed, norm }) => {
      const k = 1 + (kSeed % E);
      const p = weights(E, 6, 4);
      const h = randn([B, T, 6], { dtype: 'float64' });
      const { out, routerLogits } = block(p, k, norm).forward(h);
      expect(out.shape).toEqual([B, T, 6]);
      const x = h.reshape(B * T, 6);
      const z = linear(x, p.router); // [N, E]
      expect(Array.from(routerLogits.dataSync())).toEqual(Array.from(z.dataSync()));
      const r = routeTopK(z, k, norm);
      const want = moeExperts(x, r.weights, r.indices, p).dataSync();
      expect(Array.from(out.dataSync())).toEqual(Array.from(want));
    });
  });

  it('one expert, top-1 = the dense SwiGLU MLP with the same weights', () => {
    checkProperty(fc.record({ N: fc.integer({ min: 1, max: 20 }), norm: fc.boolean() }), ({ N, norm }) => {
      const x = randn([N, 8], { dtype: 'float64' });
      const p = weights(1, 8, 5);
      const moe = block(p, 1, norm).forward(x).out.dataSync();
      const dense = new Qwen3MoeMLP(8, 5, init());
      dense.gate_proj.setParameter('weight', p.gate.select(0, 0));
      dense.up_proj.setParameter('weight', p.up.select(0, 0));
      dense.down_proj.setParameter('weight', p.down.select(0, 0));
      const want = dense.forward(x).dataSync();
      moe.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
    });
  });

  it('permuting the experts (and router rows) changes nothing', () => {
    checkProperty(
      fc.record({ N: fc.integer({ min: 1, max: 12 }), E: fc.integer({ min: 2, max: 6 }), seed: fc.nat() }),
      ({ N, E, seed }) => {
        const k = 1 + (seed % Math.min(E, 3));
        const x = randn([N, 6], { dtype: 'float64' });
        const p = weights(E, 6, 4);
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
        const a = block(p, k, true).forward(x).out.dataSync();
        const b = block(q, k, true).forward(x).out.dataSync();
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 10));
      },
    );
  });

  it('top-k with K = E and renormalisation = the full softmax mixture', () => {
    const [N, E] = [5, 4];
    const x = randn([N, 6], { dtype: 'float64' });
    const p = weights(E, 6, 3);
    const got = block(p, E, true).forward(x).out.dataSync();
    const probs = x.matmul(p.router.mT).softmax(-1);
    let want = x.mul(0);
    for (let e = 0; e < E; e++)
      want = want.add(mlp(x, p.gate.select(0, e), p.up.select(0, e), p.down.select(0, e)).mul(probs.narrow(1, e, 1)));
    want.dataSync().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 10));
  });

  it('state dict: the router, then every expert under HF per-expert names', () => {
    const b = block(weights(2, 4, 3), 1, true);
    expect([...b.stateDict().keys()]).toEqual([
      'gate.weight',
      ...[0, 1].flatMap((e) => ['gate_proj', 'up_proj', 'down_proj'].map((n) => `experts.${e}.${n}.weight`)),
    ]);
  });
});

describe('Qwen3MoeDecoderLayer', () => {
  it('router logits [B·T, E] from the sparse layers only (mlp_only_layers are dense Qwen3MoeMLPs)', () => {
    const c = preset('tiny-qwen3-moe', { num_hidden_layers: 2, mlp_only_layers: [1] }) as Qwen3MoeConfig;
    const [B, T] = [2, 3];
    const x = randn([B, T, c.hidden_size]);
    const ctx = { ...rotaryTables(c, { offset: 0, length: T }, 'float32'), offset: 0 };
    const sparse = new Qwen3MoeDecoderLayer(c, 0, init('float32'));
    const dense = new Qwen3MoeDecoderLayer(c, 1, init('float32'));
    expect(sparse.mlp).toBeInstanceOf(Qwen3MoeSparseMoeBlock);
    expect(dense.mlp).toBeInstanceOf(Qwen3MoeMLP);
    expect(sparse.forward(x, ctx).routerLogits!.shape).toEqual([B * T, c.num_experts]);
    expect(dense.forward(x, ctx).routerLogits).toBeUndefined();
    expect(dense.forward(x, ctx).hidden.shape).toEqual([B, T, c.hidden_size]);
  });
});
