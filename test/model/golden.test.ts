// The external oracle for the model layer: Hugging Face transformers' own numbers on the same weights
// (test/fixtures/golden/models, produced by transformers 4.51.3). Logits, hidden states, router logits,
// routing decisions, losses and gradients must agree within the tolerances of the fixtures' README —
// in float32 (what a user runs) and float64 (against the float64 reference run).
import { describe, expect, it } from 'vitest';
import { routeTopK } from '../../core/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { parseConfig } from '../../model/config.js';
import { golden, gradOf, relErr, type Golden } from '../helpers/golden.js';

const VARIANTS = ['llama_tiny', 'qwen3moe_tiny', 'qwen3moe_tiny_dense0'] as const;
const TOL = { activations: 1e-5, loss: 1e-5, grad: 2e-5 };

const scalarErr = (x: number, ref: number) => Math.abs(x - ref) / Math.abs(ref);

function load(g: Golden, dtype: 'float32' | 'float64'): CausalLM {
  const m = createModel(parseConfig(g.config), { dtype });
  const used = m.loadStateDict((k) => {
    try {
      return g.param(k);
    } catch {
      return undefined;
    }
  }, dtype);
  expect(used.size).toBeGreaterThan(0);
  return m;
}

for (const variant of VARIANTS) {
  const g = golden(variant);
  const moe = g.config.model_type === 'qwen3_moe';
  const coef: number = g.config.router_aux_loss_coef ?? 0;
  describe(`HF golden: ${variant}`, () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const c of ['A', 'B'] as const) {
        const s = g.json.scalars[c].ref;
        it(`${dtype} case ${c}: logits, hidden states, router logits, routing, losses`, async () => {
          const m = load(g, dtype);
          const ids = g.t(`${c}.input_ids`);
          const out = m.forward(ids, { labels: ids, outputHiddenStates: true, outputRouterLogits: true });
          expect(out.logits.dtype).toBe(dtype);
          expect(await relErr(out.logits, g.t(`${c}.ref.logits`))).toBeLessThan(TOL.activations);
          if (dtype === 'float32') expect(await relErr(out.logits, g.t(`${c}.f32.logits`))).toBeLessThan(TOL.activations);
          const hs = out.hiddenStates!;
          expect(await relErr(hs.embed, g.t(`${c}.ref.hidden.embed`))).toBeLessThan(TOL.activations);
          for (const [i, h] of hs.layers.entries())
            expect(await relErr(h, g.t(`${c}.ref.hidden.layer${i}`)), `layer ${i}`).toBeLessThan(TOL.activations);
          expect(await relErr(hs.finalNorm, g.t(`${c}.ref.hidden.final_norm`))).toBeLessThan(TOL.activations);
          expect(scalarErr(out.ceLoss!.itemSync(), s.loss)).toBeLessThan(TOL.loss);
          if (moe) {
            const sparse = m.sparseLayers();
            expect(out.routerLogits.length).toBe(sparse.length);
            for (const [j, layer] of sparse.entries()) {
              const logits = out.routerLogits[j];
              expect(await relErr(logits, g.t(`${c}.ref.router_logits.layer${layer}`))).toBeLessThan(TOL.activations);
              const r = routeTopK(logits, g.config.num_experts_per_tok, g.config.norm_topk_prob);
              expect(Array.from(r.indices.dataSync())).toEqual(
                Array.from(g.t(`${c}.ref.routing.selected.layer${layer}`).dataSync()),
              );
              expect(await relErr(r.weights, g.t(`${c}.ref.routing.weights.layer${layer}`))).toBeLessThan(TOL.activations);
            }
            expect(scalarErr(out.auxLoss!.itemSync(), s.aux_loss)).toBeLessThan(TOL.loss);
            expect(scalarErr(out.loss!.itemSync(), s.loss_total)).toBeLessThan(TOL.loss);
          } else {
            expect(out.auxLoss).toBeUndefined();
            expect(out.loss!.itemSync()).toBe(out.ceLoss!.itemSync());
          }
          // Masked labels (-100 ignored; one mean over the remaining shifted targets).
          const masked = m.forward(ids, { labels: g.t(`${c}.labels_masked`), outputRouterLogits: true });
          expect(scalarErr(masked.ceLoss!.itemSync(), s.loss_masked)).toBeLessThan(TOL.loss);
          if (moe) expect(scalarErr(masked.loss!.itemSync(), s.loss_masked_total)).toBeLessThan(TOL.loss);
        });

        const kinds = moe ? (c === 'A' ? ['grad_total', 'grad_ce'] : ['grad_total']) : ['grad'];
        for (const kind of kinds) {
          it(`${dtype} case ${c}: ${kind} of every stored parameter`, async () => {
            const m = load(g, dtype);
            const ids = g.t(`${c}.input_ids`);
            // grad_ce is HF's default forward (no router logits → CE only); grad_total adds coef·aux.
            const out = m.forward(ids, { labels: ids, outputRouterLogits: kind !== 'grad_ce' });
            if (kind === 'grad_ce') expect(out.auxLoss).toBeUndefined();
            out.loss!.backward();
            for (const name of g.json.grad_params as string[]) {
              const ref = g.t(`${c}.ref.${kind}.${name}`);
              let grad = gradOf(m, name);
              if (name === 'model.embed_tokens.weight') {
                // Only the rows of tokens that occur are stored; every other row must be exactly 0.
                const rows = Array.from(g.t(`${c}.embed_grad_row_ids`).dataSync());
                const all = grad.dataSync(),
                  H = grad.shape[1];
                for (let v = 0; v < grad.shape[0]; v++) {
                  if (!rows.includes(v))
                    expect(
                      all.subarray(v * H, (v + 1) * H).every((x) => x === 0),
                      `embedding row ${v}`,
                    ).toBe(true);
                }
                grad = grad.indexSelect(0, g.t(`${c}.embed_grad_row_ids`));
              }
              expect(await relErr(grad, ref), `${kind} ${name}`).toBeLessThan(TOL.grad);
            }
            if (moe && coef > 0 && kind === 'grad_total') expect(out.loss!.itemSync()).toBeGreaterThan(out.ceLoss!.itemSync());
          });
        }
      }
    }
  });
}
