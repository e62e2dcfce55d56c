// Model configs as Hugging Face writes them (config.json, HF field names and defaults) for the two
// LLM-jp-4 architectures: `llama` (LlamaForCausalLM, the 8B) and `qwen3_moe` (Qwen3MoeForCausalLM, the
// 32B-A3B). Parsing fills HF's defaults and rejects what the model code cannot honour, naming the field.

export type RopeScalingConfig = Record<string, unknown> & { rope_type?: string; type?: string };

interface CommonConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  /** Per-head size; HF defaults it to hidden_size / num_attention_heads. */
  head_dim: number;
  hidden_act: 'silu';
  max_position_embeddings: number;
  initializer_range: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: RopeScalingConfig | null;
  tie_word_embeddings: boolean;
  attention_bias: boolean;
  attention_dropout: number;
  pad_token_id: number | null;
  bos_token_id: number | null;
  eos_token_id: number | number[] | null;
  use_cache: boolean;
  torch_dtype: string;
}

export interface LlamaConfig extends CommonConfig {
  model_type: 'llama';
  mlp_bias: boolean;
  pretraining_tp: number;
}

export interface Qwen3MoeConfig extends CommonConfig {
  model_type: 'qwen3_moe';
  num_experts: number;
  num_experts_per_tok: number;
  moe_intermediate_size: number;
  decoder_sparse_step: number;
  mlp_only_layers: number[];
  norm_topk_prob: boolean;
  output_router_logits: boolean;
  router_aux_loss_coef: number;
  use_sliding_window: boolean;
  sliding_window: number | null;
  max_window_layers: number;
}

export type ModelConfig = LlamaConfig | Qwen3MoeConfig;

const COMMON_DEFAULTS = {
  hidden_act: 'silu',
  initializer_range: 0.02,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  tie_word_embeddings: false,
  attention_bias: false,
  attention_dropout: 0,
  pad_token_id: null,
  use_cache: true,
  torch_dtype: 'float32',
} as const;

/** LlamaConfig's defaults (transformers v4.51). */
const LLAMA_DEFAULTS = {
  ...COMMON_DEFAULTS,
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  max_position_embeddings: 2048,
  rope_theta: 10000,
  bos_token_id: 1,
  eos_token_id: 2,
  mlp_bias: false,
  pretraining_tp: 1,
};

/** Qwen3MoeConfig's defaults (transformers v4.51). */
const QWEN3_MOE_DEFAULTS = {
  ...COMMON_DEFAULTS,
  model_type: 'qwen3_moe',
  vocab_size: 151936,
  hidden_size: 2048,
  intermediate_size: 6144,
  num_hidden_layers: 24,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  max_position_embeddings: 32768,
  rope_theta: 10000,
  bos_token_id: null,
  eos_token_id: null,
  num_experts: 128,
  num_experts_per_tok: 8,
  moe_intermediate_size: 768,
  decoder_sparse_step: 1,
  mlp_only_layers: [],
  norm_topk_prob: false,
  output_router_logits: false,
  router_aux_loss_coef: 0.001,
  use_sliding_window: false,
  sliding_window: 4096,
  max_window_layers: 28,
};

function fail(field: string, msg: string): never {
  throw new Error(`config: ${field} ${msg}`);
}

// The fields read as booleans and as plain numbers: JSON says the type, so "false" (a string) is refused
// rather than read as truthy, and "1e4" is "must be a number", not a misleading range error.
const BOOLEAN_FIELDS = [
  'tie_word_embeddings',
  'attention_bias',
  'mlp_bias',
  'use_cache',
  'norm_topk_prob',
  'output_router_logits',
  'use_sliding_window',
];
const NUMBER_FIELDS = ['rope_theta', 'rms_norm_eps', 'initializer_range', 'attention_dropout', 'router_aux_loss_coef'];

function checkTypes(c: Record<string, unknown>): void {
  for (const f of BOOLEAN_FIELDS)
    if (f in c && typeof c[f] !== 'boolean') fail(f, `must be true or false, got ${JSON.stringify(c[f])}`);
  for (const f of NUMBER_FIELDS)
    if (f in c && !(typeof c[f] === 'number' && Number.isFinite(c[f]))) fail(f, `must be a number, got ${JSON.stringify(c[f])}`);
  if (c.rope_scaling !== null && (typeof c.rope_scaling !== 'object' || Array.isArray(c.rope_scaling)))
    fail('rope_scaling', `must be an object or null, got ${JSON.stringify(c.rope_scaling)}`);
}

function positiveInt(c: Record<string, unknown>, field: string): void {
  const v = c[field];
  if (!Number.isInteger(v) || (v as number) <= 0) fail(field, `must be a positive integer, got ${JSON.stringify(v)}`);
}

/** A config from HF config.json contents: defaults filled in, unsupported values refused by field. */
export function parseConfig(json: Record<string, unknown>): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`config: must be a JSON object, got ${JSON.stringify(json)}`);
  const type = json.model_type;
  if (type !== 'llama' && type !== 'qwen3_moe') fail('model_type', `must be 'llama' or 'qwen3_moe', got ${JSON.stringify(type)}`);
  const defaults = type === 'llama' ? LLAMA_DEFAULTS : QWEN3_MOE_DEFAULTS;
  const c: Record<string, unknown> = { ...defaults, ...json };
  // HF: num_key_value_heads and head_dim default from the head count; rope_scaling's old `type` key means rope_type.
  c.num_key_value_heads ??= c.num_attention_heads;
  c.head_dim ??= Math.floor((c.hidden_size as number) / (c.num_attention_heads as number));
  if (type === 'qwen3_moe') c.mlp_only_layers ??= [];
  checkTypes(c);
  for (const f of [
    'vocab_size',
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
    'head_dim',
    'max_position_embeddings',
  ])
    positiveInt(c, f);
  if ((c.num_attention_heads as number) % (c.num_key_value_heads as number) !== 0) {
    fail('num_key_value_heads', `(${c.num_key_value_heads}) must divide num_attention_heads (${c.num_attention_heads})`);
  }
  if ((c.head_dim as number) % 2 !== 0) fail('head_dim', `must be even for rotary embeddings, got ${c.head_dim}`);
  if (c.hidden_act !== 'silu') fail('hidden_act', `must be 'silu' (SwiGLU), got ${JSON.stringify(c.hidden_act)}`);
  if (c.attention_bias) fail('attention_bias', 'true is not supported (LLM-jp-4 and the golden models have no biases)');
  if (type === 'llama' && c.mlp_bias) fail('mlp_bias', 'true is not supported');
  if (type === 'llama' && c.pretraining_tp !== 1) fail('pretraining_tp', `must be 1, got ${c.pretraining_tp}`);
  if (!(typeof c.rms_norm_eps === 'number' && c.rms_norm_eps >= 0))
    fail('rms_norm_eps', `must be a non-negative number, got ${c.rms_norm_eps}`);
  if (!(typeof c.rope_theta === 'number' && c.rope_theta > 0)) fail('rope_theta', `must be positive, got ${c.rope_theta}`);
  if (c.rope_scaling !== null) {
    const rs = c.rope_scaling as RopeScalingConfig;
    const kind = rs.rope_type ?? rs.type;
    if (kind !== 'default' && kind !== 'llama3' && kind !== 'yarn')
      fail('rope_scaling.rope_type', `must be 'default', 'llama3' or 'yarn', got ${JSON.stringify(kind)}`);
  }
  if (type === 'qwen3_moe') {
    for (const f of ['num_experts', 'num_experts_per_tok', 'moe_intermediate_size', 'decoder_sparse_step']) positiveInt(c, f);
    if ((c.num_experts_per_tok as number) > (c.num_experts as number))
      fail('num_experts_per_tok', `(${c.num_experts_per_tok}) exceeds num_experts (${c.num_experts})`);
    const layers = c.mlp_only_layers as unknown;
    if (!Array.isArray(layers) || layers.some((l) => !Number.isInteger(l) || l < 0 || l >= (c.num_hidden_layers as number))) {
      fail('mlp_only_layers', `must list layer indices in [0, ${c.num_hidden_layers}), got ${JSON.stringify(layers)}`);
    }
    if (c.use_sliding_window) fail('use_sliding_window', 'true is not supported (sliding-window attention is not implemented)');
  }
  return c as unknown as ModelConfig;
}

/** Is layer i a sparse (MoE) layer? HF: not in mlp_only_layers, experts exist, and (i+1) % decoder_sparse_step == 0. */
export function isSparseLayer(c: ModelConfig, i: number): boolean {
  return (
    c.model_type === 'qwen3_moe' && !c.mlp_only_layers.includes(i) && c.num_experts > 0 && (i + 1) % c.decoder_sparse_step === 0
  );
}

/**
 * The config as HF's save_pretrained writes it (keys sorted, `architectures` set to the model's class
 * name, which auto.ts's map knows: this file sits below the architectures and cannot import it).
 */
export function configToJSON(c: ModelConfig, architecture: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c, architectures: [architecture] };
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
}
