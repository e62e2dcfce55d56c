// The LLM-jp-4 architectures on the GPU backend, in every gpu.js mode that works here: the tiny Llama
// and tiny Qwen3-MoE presets (scaled down for test time, same shapes of attention and routing) give
// the CPU backend's logits, losses (the MoE load-balancing loss included) and every parameter's
// gradient, then three AdamW steps leave every parameter equal; and a whole training step inside
// scope() leaves no device buffer behind but its loss.
import { expect, it } from 'vitest';
import {
  adamwUpdate_,
  cpu,
  memoryStats,
  scope,
  tensor,
  withBackend,
  zerosLike,
  type Backend,
  type Tensor,
} from '../../../core/index.js';
import { assertSame } from '../../../core/testing/index.js';
import { createModel, type CausalLM } from '../../../model/causal_lm.js';
import { preset } from '../../../model/presets.js';
import { forEachMode, TOL, itSomeModeWorks } from './harness.js';

/** The presets with a small vocabulary, width and depth; GQA 4:1 and MoE top-2 of 8 are kept. */
const SMALL = { vocab_size: 96, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, head_dim: 16 };
const CONFIGS = {
  'tiny-llama': preset('tiny-llama', SMALL),
  'tiny-qwen3-moe': preset('tiny-qwen3-moe', { ...SMALL, moe_intermediate_size: 32 }),
};
const [B, T] = [2, 8];
const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

interface Run {
  backend: Backend<any>;
  model: CausalLM;
  ids: Tensor;
  m: Tensor[];
  v: Tensor[];
}

/** The same seeded model, batch and zero moments on `backend`. */
function setup(name: keyof typeof CONFIGS, backend: Backend<any>): Run {
  return withBackend(backend, () => {
    const model = createModel(CONFIGS[name], { seed: 5 });
    const ids = tensor(
      Int32Array.from({ length: B * T }, (_, i) => (i * 37 + 11) % SMALL.vocab_size),
      { shape: [B, T] },
    );
    const params = model.parameters();
    return { backend, model, ids, m: params.map((p) => zerosLike(p)), v: params.map((p) => zerosLike(p)) };
  });
}

/**
 * Forward with labels = ids (and the load-balancing loss for MoE), backward; returns logits and the
 * total loss (under the run's backend, which the gradients' own tensors are created on).
 */
function forwardBackward(r: Run): { logits: Tensor; loss: Tensor } {
  return withBackend(r.backend, () => {
    const out = r.model.forward(r.ids, { labels: r.ids, outputRouterLogits: true });
    out.loss!.backward();
    return { logits: out.logits.detach(), loss: out.loss!.detach() };
  });
}

/** AdamW on every parameter, in place; gradients cleared. */
function step(r: Run, k: number): void {
  r.model.parameters().forEach((p, i) => {
    adamwUpdate_(p, p.grad!, r.m[i]!, r.v[i]!, { ...ADAMW, step: k });
    p.grad = null;
  });
}

/** One whole training step: forward, backward, AdamW; returns the loss. */
function trainStep(r: Run, k: number): Tensor {
  const { loss } = forwardBackward(r);
  step(r, k);
  return loss;
}

forEachMode((gpu) => {
  for (const name of Object.keys(CONFIGS) as (keyof typeof CONFIGS)[]) {
    it(`${name}: logits, loss and every gradient = CPU, and after three AdamW steps every parameter`, async () => {
      const g = setup(name, gpu());
      const c = setup(name, cpu);
      const named = c.model.namedParameters().map(([n]) => n);
      const gg = forwardBackward(g);
      const cc = forwardBackward(c);
      await assertSame(gg.logits, cc.logits, TOL.fused, `${name} logits`);
      await assertSame(gg.loss, cc.loss, TOL.fused, `${name} loss`);
      const [gp, cp] = [g.model.parameters(), c.model.parameters()];
      for (let i = 0; i < gp.length; i++)
        await assertSame(gp[i]!.grad!, cp[i]!.grad!, TOL.fused, `${name} gradient of ${named[i]}`);
      step(g, 1);
      step(c, 1);
      for (let k = 2; k <= 3; k++) await assertSame(trainStep(g, k), trainStep(c, k), TOL.fused, `${name} loss at step ${k}`);
      for (let i = 0; i < gp.length; i++) await assertSame(gp[i]!, cp[i]!, TOL.fused, `${name} ${named[i]} after 3 steps`);
    });
  }

  it('forward runs where the weights live, without the caller making that backend current', async () => {
    const g = setup('tiny-qwen3-moe', gpu());
    const inside = withBackend(g.backend, () => g.model.forward(g.ids).logits);
    const outside = g.model.forward(g.ids).logits; // the current backend is the CPU here
    expect(outside.device).toBe(g.backend.name);
    await assertSame(outside, inside, TOL.exact, 'logits with and without withBackend');
  });

  // Counted by running totals (made − released), as in backend.test.ts: the finalizer backstop may
  // free garbage of earlier tests at any moment, so live counts alone would not be deterministic.
  it('a training step of the tiny Qwen3-MoE inside scope() releases every buffer it made but the loss', async () => {
    const b = gpu();
    const r = setup('tiny-qwen3-moe', b);
    trainStep(r, 1).dispose(); // builds the cached RoPE tables, which are meant to live on
    await b.sync();
    const s0 = memoryStats(b)!;
    const loss = scope(() => trainStep(r, 2), b);
    expect(Number.isFinite((await loss.data())[0])).toBe(true);
    await b.sync();
    const s1 = memoryStats(b)!;
    expect(s1.allocated - s0.allocated).toBeGreaterThan(100);
    expect(s1.allocated - s0.allocated - (s1.disposed - s0.disposed)).toBe(1); // the loss
    loss.dispose();
    await b.sync();
    expect(memoryStats(b)!.disposed).toBe(s1.disposed + 1);
  });
});

itSomeModeWorks();
