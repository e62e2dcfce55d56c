// Named configs: the two released LLM-jp-4 models at their real sizes (../shared/LLMJP4.md) and tiny
// models of the same architectures, sized to train on a 2-core CPU.

import { parseConfig, type ModelConfig } from './config.js';

const LLMJP4_COMMON = {
  vocab_size: 196608,
  rms_norm_eps: 1e-6,
  rope_theta: 500000,
  tie_word_embeddings: false,
  max_position_embeddings: 65536,
  bos_token_id: 1,
  eos_token_id: 2,
};

export const PRESETS: Record<string, Record<string, unknown>> = {
  'llm-jp-4-8b': {
    ...LLMJP4_COMMON,
    model_type: 'llama',
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 128,
    initializer_range: 0.02,
  },
  'llm-jp-4-32b-a3b': {
    ...LLMJP4_COMMON,
    model_type: 'qwen3_moe',
    hidden_size: 2560,
    intermediate_size: 6144,
    num_hidden_layers: 32,
    num_attention_heads: 40,
    num_key_value_heads: 4,
    head_dim: 128,
    num_experts: 128,
    num_experts_per_tok: 8,
    moe_intermediate_size: 960,
    decoder_sparse_step: 1,
    mlp_only_layers: [],
    norm_topk_prob: true,
    router_aux_loss_coef: 0.01,
    initializer_range: 0.006,
  },
  // Tiny models for training here: the LLM-jp-4 shapes scaled down (GQA 4:1 / MoE top-2 of 8). Their
  // vocabulary is the small trained tokenizer's; pass vocab_size to match another one. No pad_token_id:
  // HF would freeze that embedding row, and packed training has no padding.
  'tiny-llama': {
    model_type: 'llama',
    vocab_size: 8000,
    hidden_size: 128,
    intermediate_size: 352,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    head_dim: 32,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 1024,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
  },
  'tiny-qwen3-moe': {
    model_type: 'qwen3_moe',
    vocab_size: 8000,
    hidden_size: 128,
    intermediate_size: 352,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    head_dim: 32,
    num_experts: 8,
    num_experts_per_tok: 2,
    moe_intermediate_size: 96,
    norm_topk_prob: true,
    router_aux_loss_coef: 0.01,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 1024,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    initializer_range: 0.02,
  },
};

export function preset(name: string, overrides: Record<string, unknown> = {}): ModelConfig {
  const p = PRESETS[name];
  if (!p) throw new Error(`preset: unknown preset '${name}'; available: ${Object.keys(PRESETS).join(', ')}`);
  return parseConfig({ ...p, ...overrides });
}
