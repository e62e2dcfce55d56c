// The causal language model shared by LlamaForCausalLM and Qwen3MoeForCausalLM: `model` (embed_tokens,
// layers, norm) and `lm_head`, a forward that returns logits, the HF loss (CE + router_aux_loss_coef·aux
// when router logits are requested), hidden states and router logits, and the KV cache for decoding.

import { Generator, loadBalancingLoss, withBackend, type DType, type Tensor } from '../core/index.js';
import { isSparseLayer, type ModelConfig } from './config.js';
import { causalLmLoss, type DecoderLayer, type LayerContext } from './decoder.js';
import type { KVCache } from './kv_cache.js';
import { llamaDecoderLayer } from './llama.js';
import { Embedding, Linear, RMSNorm, type Init } from './modules/basic.js';
import { Module, ModuleList } from './modules/module.js';
import { qwen3MoeDecoderLayer } from './qwen3_moe.js';
import { rotaryTables } from './modules/rotary.js';

export interface ForwardOptions {
  /** Token ids [B, T] (int32) to predict: HF shifts them (position t predicts labels[t+1]); -100 is ignored. */
  labels?: Tensor;
  /** 1 for real tokens, 0 for padding, over every key position [B, offset + T]. */
  attentionMask?: Tensor;
  /** Explicit int32 positions [B, T] (default: offset, offset+1, …). */
  positionIds?: Tensor;
  cache?: KVCache;
  outputHiddenStates?: boolean;
  /** Return each layer's attention probabilities (HF's output_attentions; costs a T×T matrix per head). */
  outputAttentions?: boolean;
  /** Compute the load-balancing loss (default: the config's output_router_logits). MoE only. */
  outputRouterLogits?: boolean;
}

export interface CausalLMOutput {
  /** [B, T, V]. */
  logits: Tensor;
  /** What HF's forward returns as loss: CE, plus router_aux_loss_coef·aux when router logits are on. */
  loss?: Tensor;
  /** The cross-entropy alone. */
  ceLoss?: Tensor;
  /** The unscaled load-balancing loss (MoE, router logits on). */
  auxLoss?: Tensor;
  /** Router logits [B·T, E] of each sparse layer. */
  routerLogits: Tensor[];
  hiddenStates?: { embed: Tensor; layers: Tensor[]; finalNorm: Tensor };
  /** With outputAttentions: per layer, softmax(q·kᵀ/√HS + masks) [B, NH, Tq, offset + Tq]. */
  attentions?: Tensor[];
}

export class DecoderModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: RMSNorm;

  constructor(c: ModelConfig, init: Init) {
    super();
    this.embed_tokens = this.addModule('embed_tokens', new Embedding(c.vocab_size, c.hidden_size, c.pad_token_id, init));
    const layer = (i: number) => (c.model_type === 'llama' ? llamaDecoderLayer(c, i, init) : qwen3MoeDecoderLayer(c, i, init));
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: c.num_hidden_layers }, (_, i) => layer(i))));
    this.norm = this.addModule('norm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
  }
}

export interface ModelOptions {
  dtype?: 'float32' | 'float64';
  /** Seed of the HF-style random initialisation (normal(0, initializer_range), norms at 1). */
  seed?: number;
}

export class CausalLM extends Module {
  readonly config: ModelConfig;
  readonly dtype: 'float32' | 'float64';
  readonly model: DecoderModel;
  readonly lm_head: Linear;

  constructor(config: ModelConfig, opts: ModelOptions = {}) {
    super();
    this.config = config;
    this.dtype = opts.dtype ?? 'float32';
    const init: Init = { dtype: this.dtype, generator: new Generator(opts.seed ?? 0), std: config.initializer_range };
    this.model = this.addModule('model', new DecoderModel(config, init));
    this.lm_head = this.addModule('lm_head', new Linear(config.hidden_size, config.vocab_size, init));
    this.tie();
  }

  /** With tie_word_embeddings, lm_head.weight *is* the embedding (one tensor, gradients from both uses). */
  protected tie(): void {
    if (this.config.tie_word_embeddings) this.lm_head.setParameter('weight', this.model.embed_tokens.weight);
  }

  override stateDict(prefix = ''): Map<string, Tensor> {
    const sd = super.stateDict(prefix);
    // A tied lm_head is not written (HF's save_pretrained leaves it out).
    if (this.config.tie_word_embeddings) sd.delete(`${prefix}lm_head.weight`);
    return sd;
  }

  override loadStateDict(get: (key: string) => Tensor | undefined, dtype: DType, prefix = ''): Set<string> {
    const tiedGet = this.config.tie_word_embeddings
      ? (k: string) => get(k) ?? (k === `${prefix}lm_head.weight` ? get(`${prefix}model.embed_tokens.weight`) : undefined)
      : get;
    const used = super.loadStateDict(tiedGet, dtype, prefix);
    this.tie();
    return used;
  }

  forward(inputIds: Tensor, opts: ForwardOptions = {}): CausalLMOutput {
    // What the forward creates itself (RoPE tables, the padding mask) goes where the weights live, so a
    // model on the GPU backend runs without the caller switching the current backend.
    return withBackend(this.model.embed_tokens.weight.storage.backend, () => this.forwardOn(inputIds, opts));
  }

  private forwardOn(inputIds: Tensor, opts: ForwardOptions): CausalLMOutput {
    const c = this.config;
    if (inputIds.ndim !== 2 || inputIds.dtype !== 'int32')
      throw new Error(`forward: input ids must be int32 [B, T], got ${inputIds.dtype} [${inputIds.shape}]`);
    const T = inputIds.shape[1];
    const offset = opts.cache?.length ?? 0;
    const { cos, sin } = rotaryTables(c, opts.positionIds ?? { offset, length: T }, this.dtype);
    const ctx: LayerContext = {
      cos,
      sin,
      offset,
      cache: opts.cache,
      mask: opts.attentionMask && paddingMask(opts.attentionMask, this.dtype),
    };
    if (opts.outputAttentions) ctx.attentions = [];
    const embeds = this.model.embed_tokens.forward(inputIds); // [B, T, H]
    let x = embeds;
    const layers: Tensor[] = [];
    const routerLogits: Tensor[] = [];
    for (const layer of this.model.layers.items) {
      const r = layer.forward(x, ctx);
      x = r.hidden;
      if (opts.outputHiddenStates) layers.push(x);
      if (r.routerLogits) routerLogits.push(r.routerLogits);
    }
    if (opts.cache) opts.cache.length += T;
    const normed = this.model.norm.forward(x);
    const out: CausalLMOutput = { logits: this.lm_head.forward(normed), routerLogits }; // [B, T, V]
    if (opts.outputHiddenStates) out.hiddenStates = { embed: embeds, layers, finalNorm: normed };
    if (ctx.attentions) out.attentions = ctx.attentions;
    if (c.model_type === 'qwen3_moe' && (opts.outputRouterLogits ?? c.output_router_logits) && routerLogits.length > 0) {
      out.auxLoss = loadBalancingLoss(routerLogits, c.num_experts, c.num_experts_per_tok);
    }
    if (opts.labels) {
      out.ceLoss = causalLmLoss(out.logits, opts.labels);
      out.loss =
        out.auxLoss && c.model_type === 'qwen3_moe' ? out.ceLoss.add(out.auxLoss.mul(c.router_aux_loss_coef)) : out.ceLoss;
    }
    return out;
  }

  /** How many layers are sparse (MoE). */
  sparseLayers(): number[] {
    return Array.from({ length: this.config.num_hidden_layers }, (_, i) => i).filter((i) => isSparseLayer(this.config, i));
  }
}

/** 1/0 key mask [B, Tk] → additive [B, 1, 1, Tk]: 0 where kept, the dtype's most negative value where padded (as HF). */
export function paddingMask(mask: Tensor, dtype: 'float32' | 'float64'): Tensor {
  const min = dtype === 'float32' ? -3.4028234663852886e38 : -Number.MAX_VALUE;
  return mask.to(dtype).neg().add(1).mul(min).reshape(mask.shape[0], 1, 1, mask.shape[1]);
}

export class LlamaForCausalLM extends CausalLM {}
export class Qwen3MoeForCausalLM extends CausalLM {}

/** The class HF's `architectures` names, built from a config. */
export function createModel(config: ModelConfig, opts: ModelOptions = {}): CausalLM {
  return config.model_type === 'llama' ? new LlamaForCausalLM(config, opts) : new Qwen3MoeForCausalLM(config, opts);
}
