// Where callers import the causal language models from: the shared base (`CausalLM`, its forward's
// options and outputs) and `createModel`, which builds the class a config's model_type names. The base
// itself lives in causal_lm_base.ts and imports neither architecture; this entry reaches them through
// auto.ts's map (and re-exports the two ForCausalLM classes by their HF names).

export {
  CausalLM,
  causalLmLoss,
  paddingMask,
  type CausalLMOutput,
  type ForwardOptions,
  type HiddenStates,
  type LayerContext,
  type ModelOptions,
} from './causal_lm_base.js';
export { architecture } from './auto.js';
export { createModel } from './create_model.js';
export { LlamaForCausalLM } from './llama.js';
export { Qwen3MoeForCausalLM } from './qwen3_moe.js';
