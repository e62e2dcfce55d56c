// model_type → architecture (HF's AutoModelForCausalLM): the one place that knows which class a config
// builds, and the few facts about an architecture that code outside it needs — its HF class name, whether
// its attention norms q and k, and, for a mixture of experts, its routing config. Callers ask this map
// instead of testing `model_type` themselves, so a third architecture is one more entry here.

import type { CausalLM, ModelOptions } from './causal_lm_base.js';
import type { ModelConfig, Qwen3MoeConfig } from './config.js';
import { LlamaForCausalLM } from './llama.js';
import { Qwen3MoeForCausalLM } from './qwen3_moe.js';

/** The routing config of a mixture-of-experts architecture, in HF's Qwen3MoeConfig names. */
export type MoeConfig = Pick<
  Qwen3MoeConfig,
  'num_experts' | 'num_experts_per_tok' | 'moe_intermediate_size' | 'norm_topk_prob' | 'router_aux_loss_coef'
>;

export interface Architecture<C extends ModelConfig = ModelConfig> {
  /** HF's class name, written to config.json's `architectures`. */
  readonly name: string;
  /** Build the model (random HF initialisation; load weights after). */
  create(config: C, opts?: ModelOptions): CausalLM;
  /** Whether attention RMS-normalises each head's q and k (Qwen3's q_norm, k_norm, one [HS] weight each). */
  readonly qkNorm: boolean;
  /** Its routing config if it routes tokens to experts (router logits, aux and z losses), else null. */
  moe(config: C): MoeConfig | null;
}

type ConfigOf<T extends ModelConfig['model_type']> = Extract<ModelConfig, { model_type: T }>;

const ARCHITECTURES: { [T in ModelConfig['model_type']]: Architecture<ConfigOf<T>> } = {
  llama: {
    name: 'LlamaForCausalLM',
    create: (c, opts) => new LlamaForCausalLM(c, opts),
    qkNorm: false,
    moe: () => null,
  },
  qwen3_moe: {
    name: 'Qwen3MoeForCausalLM',
    create: (c, opts) => new Qwen3MoeForCausalLM(c, opts),
    qkNorm: true,
    moe: (c) => c,
  },
};

/** The architecture a config's model_type names. */
export function architecture(config: ModelConfig): Architecture {
  // Looked up by the config's own model_type, so the entry's config type is this config's: the widening
  // to Architecture<ModelConfig> forgets only that link.
  return ARCHITECTURES[config.model_type] as Architecture;
}
