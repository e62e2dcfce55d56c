// Parameter counts from a config alone, without allocating any weight: the total, and the active
// count a token uses (embeddings + lm_head + attention + norms + routers + the top-k experts). What
// differs between architectures (q/k norms, the experts) is read from auto.ts's map.

import { architecture } from './auto.js';
import { isSparseLayer, type ModelConfig } from './config.js';

export interface ParamCount {
  total: number;
  active: number;
}

export function countParams(c: ModelConfig): ParamCount {
  const { hidden_size: H, vocab_size: V, num_attention_heads: NH, num_key_value_heads: KVH, head_dim: HS } = c;
  const arch = architecture(c);
  const moe = arch.moe(c);
  const embeddings = V * H * (c.tie_word_embeddings ? 1 : 2);
  const attention = H * NH * HS + 2 * H * KVH * HS + NH * HS * H + (arch.qkNorm ? 2 * HS : 0); // q, k, v, o (+ q_norm, k_norm)
  const norms = 2 * H;
  let total = embeddings + H; // + the final norm
  let active = total;
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const base = attention + norms;
    if (moe && isSparseLayer(c, i)) {
      const expert = 3 * H * moe.moe_intermediate_size;
      const router = moe.num_experts * H;
      total += base + router + moe.num_experts * expert;
      active += base + router + moe.num_experts_per_tok * expert;
    } else {
      const mlp = 3 * H * c.intermediate_size;
      total += base + mlp;
      active += base + mlp;
    }
  }
  return { total, active };
}
