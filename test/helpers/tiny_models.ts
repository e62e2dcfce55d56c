// Random small model configs for property tests of decoding: Llama or Qwen3-MoE, MHA / GQA / MQA,
// head_dim independent of hidden/heads, 1–2 layers (MoE sometimes with a dense first layer), tiny vocab.
import fc from 'fast-check';
import { tensor, type Tensor } from '../../core/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { parseConfig } from '../../model/config.js';

export interface TinySpec {
  config: Record<string, unknown>;
  seed: number;
}

export function tinyConfig(kind?: 'llama' | 'qwen3_moe'): fc.Arbitrary<TinySpec> {
  return fc
    .record({
      moe: kind ? fc.constant(kind === 'qwen3_moe') : fc.boolean(),
      vocab: fc.integer({ min: 8, max: 40 }),
      hidden: fc.integer({ min: 4, max: 24 }),
      heads: fc.constantFrom([1, 1], [2, 1], [2, 2], [4, 1], [4, 2], [4, 4], [3, 1], [6, 2]),
      headDim: fc.constantFrom(2, 4, 6, 8),
      layers: fc.integer({ min: 1, max: 2 }),
      inter: fc.integer({ min: 4, max: 24 }),
      experts: fc.integer({ min: 2, max: 4 }),
      topK: fc.integer({ min: 1, max: 4 }),
      moeInter: fc.integer({ min: 2, max: 12 }),
      normTopk: fc.boolean(),
      denseFirst: fc.boolean(),
      std: fc.double({ min: 0.2, max: 1, noNaN: true }),
      seed: fc.integer({ min: 0, max: 1000 }),
    })
    .map((r) => {
      const config: Record<string, unknown> = {
        model_type: r.moe ? 'qwen3_moe' : 'llama',
        vocab_size: r.vocab,
        hidden_size: r.hidden,
        intermediate_size: r.inter,
        num_hidden_layers: r.layers,
        num_attention_heads: r.heads[0],
        num_key_value_heads: r.heads[1],
        head_dim: r.headDim,
        max_position_embeddings: 256,
        rope_theta: 10000,
        initializer_range: r.std,
        bos_token_id: 1,
        eos_token_id: 2,
      };
      if (r.moe) {
        Object.assign(config, {
          num_experts: r.experts,
          num_experts_per_tok: Math.min(r.topK, r.experts),
          moe_intermediate_size: r.moeInter,
          norm_topk_prob: r.normTopk,
          mlp_only_layers: r.denseFirst && r.layers > 1 ? [0] : [],
        });
      }
      return { config, seed: r.seed };
    });
}

export function buildModel(spec: TinySpec, dtype: 'float32' | 'float64' = 'float64'): CausalLM {
  return createModel(parseConfig(spec.config), { dtype, seed: spec.seed });
}

export const ids2d = (rows: readonly (readonly number[])[]): Tensor =>
  tensor(
    rows.map((r) => [...r]),
    { dtype: 'int32' },
  );

/** Largest |a − b| over the largest |b| (and 1), for nested arrays of one shape. */
export function relErr(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) throw new Error(`relErr: ${x.length} vs ${y.length} values`);
  let num = 0;
  let den = 1;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i]! - y[i]!));
    den = Math.max(den, Math.abs(y[i]!));
  }
  return num / den;
}
