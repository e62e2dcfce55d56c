// The external oracle on the GPU backend: the Hugging Face golden checkpoints (Llama, Qwen3-MoE, and
// Qwen3-MoE with a dense layer 0) loaded onto the GPU give HF's logits, routing, losses and gradients
// within the fixtures' float32 tolerances, in every gpu.js mode that works here. Values are read
// asynchronously (webgpu cannot read synchronously).
import { expect, it } from 'vitest';
import { routeTopK, withBackend, type Backend, type Tensor } from '../../../core/index.js';
import { createModel } from '../../../model/causal_lm.js';
import { parseConfig } from '../../../model/config.js';
import { golden, gradOf, relErr, type Golden } from '../../helpers/golden.js';
import { forEachMode, GOLDEN_TOL, itSomeModeWorks } from './harness.js';

const VARIANTS = ['llama_tiny', 'qwen3moe_tiny', 'qwen3moe_tiny_dense0'] as const;

const scalarErr = async (x: Tensor, ref: number) => Math.abs((await x.item()) - ref) / Math.abs(ref);

interface Outcome {
  logits: Tensor;
  ce: Tensor;
  aux?: Tensor;
  total: Tensor;
  routing: { layer: number; indices: Tensor; weights: Tensor }[];
  grads: Map<string, Tensor>;
}

/**
 * Load, forward and backward one golden case on `backend` — synchronously, inside withBackend, since
 * the model makes its inputs and RoPE tables on the current backend — keeping what is to be compared.
 */
function runCase(backend: Backend<any>, g: Golden, c: 'A' | 'B', kind: string): Outcome {
  return withBackend(backend, () => {
    const m = createModel(parseConfig(g.config), { dtype: 'float32' });
    const keys = m.stateDict();
    m.loadStateDict((k) => (keys.has(k) ? g.param(k) : undefined), 'float32');
    const ids = g.t(`${c}.input_ids`);
    const out = m.forward(ids, { labels: ids, outputRouterLogits: kind !== 'grad_ce' });
    const routing =
      g.config.model_type === 'qwen3_moe' && kind !== 'grad_ce'
        ? m.sparseLayers().map((layer, j) => ({
            layer,
            ...routeTopK(out.routerLogits[j]!, g.config.num_experts_per_tok, g.config.norm_topk_prob),
          }))
        : [];
    out.loss!.backward();
    const grads = new Map<string, Tensor>();
    for (const name of g.json.grad_params as string[]) {
      const grad = gradOf(m, name);
      // Only the embedding rows of tokens that occur are stored.
      grads.set(name, name === 'model.embed_tokens.weight' ? grad.indexSelect(0, g.t(`${c}.embed_grad_row_ids`)) : grad);
    }
    return { logits: out.logits, ce: out.ceLoss!, aux: out.auxLoss, total: out.loss!, routing, grads };
  });
}

/** One golden case on the GPU against HF's numbers (read on the CPU). */
async function checkCase(backend: Backend<any>, g: Golden, c: 'A' | 'B', kind: string, label: string): Promise<void> {
  const o = runCase(backend, g, c, kind);
  const s = g.json.scalars[c].ref;
  expect(await relErr(o.logits, g.t(`${c}.ref.logits`)), `${label} logits vs float64 HF`).toBeLessThan(GOLDEN_TOL.activations);
  expect(await relErr(o.logits, g.t(`${c}.f32.logits`)), `${label} logits vs float32 HF`).toBeLessThan(GOLDEN_TOL.activations);
  expect(await scalarErr(o.ce, s.loss), `${label} loss`).toBeLessThan(GOLDEN_TOL.loss);
  for (const r of o.routing) {
    expect(Array.from(await r.indices.data()), `${label} routing, layer ${r.layer}`).toEqual(
      Array.from(g.t(`${c}.ref.routing.selected.layer${r.layer}`).dataSync()),
    );
    expect(
      await relErr(r.weights, g.t(`${c}.ref.routing.weights.layer${r.layer}`)),
      `${label} routing weights, layer ${r.layer}`,
    ).toBeLessThan(GOLDEN_TOL.activations);
  }
  if (o.aux) {
    expect(await scalarErr(o.aux, s.aux_loss), `${label} aux loss`).toBeLessThan(GOLDEN_TOL.loss);
    expect(await scalarErr(o.total, s.loss_total), `${label} total loss`).toBeLessThan(GOLDEN_TOL.loss);
  }
  for (const [name, grad] of o.grads) {
    expect(await relErr(grad, g.t(`${c}.ref.${kind}.${name}`)), `${label} ${kind} ${name}`).toBeLessThan(GOLDEN_TOL.grad);
  }
}

forEachMode((gpu, mode) => {
  for (const variant of VARIANTS) {
    it(`HF golden ${variant}: logits, routing, losses and gradients of both cases within the fixtures' float32 tolerances`, async () => {
      const g = golden(variant);
      const moe = g.config.model_type === 'qwen3_moe';
      const runs: ['A' | 'B', string][] = moe
        ? [
            ['A', 'grad_total'],
            ['A', 'grad_ce'],
            ['B', 'grad_total'],
          ]
        : [
            ['A', 'grad'],
            ['B', 'grad'],
          ];
      for (const [c, kind] of runs) {
        await checkCase(gpu(), g, c, kind, `${variant} ${mode} case ${c}`);
      }
    });
  }
});

itSomeModeWorks();
