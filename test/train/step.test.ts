// The train step: the accumulation law (n micro-batches of b rows ≡ one batch of n·b rows when each has
// the same number of targets), the MoE loss CE + auxCoef·aux + zCoef·z (bit-equal to writing it out by
// hand), the token/target counts, and clear errors for malformed micro-batches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, randint, tensor, type Tensor } from '../../core/index.js';
import { countRun, fcParams } from '../../core/testing/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { routerZLoss } from '../../model/moe_losses.js';
import { preset } from '../../model/presets.js';
import { AdamW } from '../../train/optim/adamw.js';
import { defaultParamGroups } from '../../train/optim/param_groups.js';
import { trainStep, type MicroBatch } from '../../train/step.js';

const SMALL = {
  vocab_size: 40,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 8,
};
const llama = (dtype: 'float32' | 'float64') => createModel(preset('tiny-llama', SMALL), { dtype, seed: 11 });
const moe = (dtype: 'float32' | 'float64' = 'float32') =>
  createModel(preset('tiny-qwen3-moe', { ...SMALL, moe_intermediate_size: 8, num_experts: 4 }), { dtype, seed: 12 });
const adamw = (m: CausalLM) => new AdamW(defaultParamGroups(m.namedParameters(), 0.1), { betas: [0.9, 0.95] });

/** B rows of T tokens; the same positions are masked (−100) in every row, so any row split has equal targets. */
function batch(seed: number, B: number, T: number, maskedPositions: number[]): MicroBatch {
  const ids = randint(0, SMALL.vocab_size, [B, T], { generator: new Generator(seed) });
  const lab = Array.from(ids.dataSync());
  for (let r = 0; r < B; r++) for (const p of maskedPositions) lab[r * T + p] = -100;
  return { inputIds: ids, labels: tensor(lab, { shape: [B, T], dtype: 'int32' }) };
}

function split(b: MicroBatch, n: number): MicroBatch[] {
  const rows = b.inputIds.shape[0]! / n;
  return Array.from({ length: n }, (_, i) => ({
    inputIds: b.inputIds.narrow(0, i * rows, rows).contiguous(),
    labels: b.labels.narrow(0, i * rows, rows).contiguous(),
  }));
}

function maxDiff(a: CausalLM, b: CausalLM): number {
  const pb = new Map(b.namedParameters());
  let d = 0;
  for (const [n, t] of a.namedParameters()) {
    const [x, y] = [t.dataSync(), pb.get(n)!.dataSync()];
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

describe('trainStep', () => {
  it('accumulation law: n micro-batches of b rows ≡ one batch of n·b rows (equal targets per micro-batch)', async () => {
    const arb = fc.record({
      seed: fc.integer(),
      n: fc.constantFrom(2, 4),
      masked: fc.subarray([1, 3, 4, 6]),
      model: fc.constantFrom('llama', 'moe'),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ seed, n, masked, model }) => {
        countRun();
        const make = () => (model === 'llama' ? llama('float64') : moe('float64'));
        const [one, many] = [make(), make()];
        const [o1, o2] = [adamw(one), adamw(many)];
        const b = batch(seed, 4, 8, masked);
        // The load-balancing loss is not a mean over tokens (a product of per-expert means), so for the law
        // it is off; the z-loss is a mean over tokens and stays on.
        const opts = { lr: 1e-2, maxGradNorm: 0.5, auxLossCoef: 0, zLossCoef: 1e-3 };
        const m1 = await trainStep(one, o1, [b], opts);
        const m2 = await trainStep(many, o2, split(b, n), opts);
        expect(m2.targets).toBe(m1.targets);
        expect(m2.tokens).toBe(32);
        expect(Math.abs(m2.loss - m1.loss)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(m2.zLoss - m1.zLoss)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(m2.gradNorm - m1.gradNorm)).toBeLessThanOrEqual(1e-12 * m1.gradNorm);
        expect(maxDiff(one, many)).toBeLessThanOrEqual(1e-11);
      }),
      fcParams(6),
    );
  });

  it('accumulation law in float32, within float tolerance', async () => {
    const [one, many] = [llama('float32'), llama('float32')];
    const b = batch(5, 4, 8, [2]);
    const m1 = await trainStep(one, adamw(one), [b], { lr: 1e-3, maxGradNorm: 1 });
    const m2 = await trainStep(many, adamw(many), split(b, 2), { lr: 1e-3, maxGradNorm: 1 });
    expect(Math.abs(m2.loss - m1.loss)).toBeLessThanOrEqual(1e-5 * m1.loss);
    expect(Math.abs(m2.gradNorm - m1.gradNorm)).toBeLessThanOrEqual(1e-4 * m1.gradNorm);
    expect(maxDiff(one, many)).toBeLessThanOrEqual(1e-5);
  });

  it('MoE: backpropagates CE + auxCoef·aux + zCoef·z, bit-equal to the loss written out by hand', async () => {
    for (const [auxCoef, zCoef] of [
      [1e-2, 1e-3],
      [0, 1e-3],
      [1e-2, 0],
    ] as const) {
      const [a, b] = [moe(), moe()];
      const [oa, ob] = [adamw(a), adamw(b)];
      const mb = batch(9, 2, 8, []);
      const m = await trainStep(a, oa, [mb], { lr: 1e-2, auxLossCoef: auxCoef, zLossCoef: zCoef });

      const out = b.forward(mb.inputIds, { labels: mb.labels, outputRouterLogits: true });
      const z = routerZLoss(out.routerLogits);
      let total: Tensor = out.ceLoss!;
      if (auxCoef) total = total.add(out.auxLoss!.mul(auxCoef));
      if (zCoef) total = total.add(z.mul(zCoef));
      total.backward();
      ob.update(1e-2);

      expect(maxDiff(a, b)).toBe(0);
      expect(m.loss).toBe(out.ceLoss!.itemSync());
      expect(m.auxLoss).toBe(out.auxLoss!.itemSync());
      expect(m.zLoss).toBe(z.itemSync());
      expect(m.lossTotal).toBe(total.itemSync());
      expect(m.zLoss).toBeGreaterThan(0);
    }
  });

  it('the z-loss changes the update of the routers (so it is really in the graph)', async () => {
    const [a, b] = [moe(), moe()];
    const mb = batch(4, 2, 8, []);
    await trainStep(a, adamw(a), [mb], { lr: 1e-2, zLossCoef: 0 });
    await trainStep(b, adamw(b), [mb], { lr: 1e-2, zLossCoef: 1e-1 });
    const router = (m: CausalLM) =>
      m
        .namedParameters()
        .find(([n]) => n.endsWith('mlp.gate.weight'))![1]
        .dataSync();
    expect(Array.from(router(a))).not.toEqual(Array.from(router(b)));
  });

  it('counts tokens (real ones under an attention mask) and targets, reports the lr, and counts routing', async () => {
    const m = moe();
    const mb = batch(2, 2, 6, [3]);
    mb.attentionMask = tensor(
      [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0],
      ],
      { dtype: 'int32' },
    );
    const r = await trainStep(m, adamw(m), [mb], { lr: 3e-4, routing: true });
    expect(r.tokens).toBe(10);
    expect(r.targets).toBe(2 * 4); // 5 shifted targets per row, one masked
    expect(r.lr).toBe(3e-4);
    expect(r.tokensPerExpert!.length).toBe(2);
    for (const counts of r.tokensPerExpert!) expect(counts.reduce((x, y) => x + y, 0)).toBe(12 * 2); // B·T tokens × top-2
  });

  it('rejects malformed micro-batches, naming the problem', async () => {
    const m = llama('float32');
    const o = adamw(m);
    const ok = batch(1, 2, 4, []);
    await expect(trainStep(m, o, [], { lr: 1 })).rejects.toThrow('trainStep: no micro-batches');
    await expect(trainStep(m, o, [batch(1, 2, 4, [1, 2, 3])], { lr: 1 })).rejects.toThrow(
      'trainStep: micro-batch 0: no targets (every shifted label is -100); its mean loss would be 0/0',
    );
    await expect(trainStep(m, o, [ok, { inputIds: ok.inputIds, labels: ok.labels.narrow(1, 0, 3) }], { lr: 1 })).rejects.toThrow(
      'trainStep: micro-batch 1: labels must be int32 [2, 4] like inputIds, got int32 [2,3]',
    );
    await expect(trainStep(m, o, [{ inputIds: ok.inputIds.to('float32'), labels: ok.labels }], { lr: 1 })).rejects.toThrow(
      'trainStep: micro-batch 0: inputIds must be int32 [B, T], got float32 [2,4]',
    );
    expect(o.step).toBe(0); // nothing was updated
  });
});
