// What LlamaForCausalLM and Qwen3MoeForCausalLM share (HF's PreTrainedModel and loss_utils, in small):
// the forward's options and outputs, the per-layer context (RoPE tables, padding mask, KV cache), the
// causal-LM loss with HF's label shift, weight tying and the abstract `CausalLM` base. It imports neither
// architecture: llama.ts and qwen3_moe.ts extend it, and auto.ts maps a config's model_type to them.

import { cat, crossEntropy, full, Generator, withBackend, type Tensor } from '../core/index.js';
import { storageLength } from '../core/dtype.js';
import { isSparseLayer, type ModelConfig } from './config.js';
import type { KVCache } from './kv_cache.js';
import type { Embedding, Init, Linear, RMSNorm } from './modules/basic.js';
import { Module, type LoadDtype, type ModuleList } from './modules/module.js';
import { rotaryTables } from './modules/rotary.js';
import { weightsPolicy, type QuantFormat, type WeightsDtypeOptions } from './weights_dtype.js';

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

export interface HiddenStates {
  /** The embeddings [B, T, C]. */
  embed: Tensor;
  /** Each decoder layer's output [B, T, C]. */
  layers: Tensor[];
  /** The final norm's output [B, T, C] (what lm_head reads). */
  finalNorm: Tensor;
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
  /** Router logits [B·T, E] of each sparse layer (none for a dense model). */
  routerLogits: Tensor[];
  hiddenStates?: HiddenStates;
  /** With outputAttentions: per layer, softmax(q·kᵀ/√HS + masks) [B, NH, Tq, offset + Tq]. */
  attentions?: Tensor[];
}

/** What LlamaModel / Qwen3MoeModel return: the final hidden state, and what was asked for along the way. */
export interface BaseModelOutput {
  /** norm(x_L) [B, T, C]. */
  lastHiddenState: Tensor;
  hiddenStates?: HiddenStates;
  /** Router logits [B·T, E] of each sparse layer (Qwen3-MoE). */
  routerLogits?: Tensor[];
}

export interface LayerContext {
  /** RoPE tables for this step's positions: [T, HS], or [B, T, HS] with explicit position ids. */
  cos: Tensor;
  sin: Tensor;
  /** Additive attention mask [B, 1, 1|Tq, Tk] (0 keep, a large negative value drop), for padding. */
  mask?: Tensor;
  /** Position of the first query: tokens already in the cache. */
  offset: number;
  cache?: KVCache;
  /** When set, each attention layer appends its probabilities [B, NH, Tq, Tk] here (output_attentions). */
  attentions?: Tensor[];
}

/** The decoder stack (HF's `model`: embed_tokens, layers, norm), as the shared code and callers see it. */
export interface DecoderModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<Module & { readonly self_attn: Module; readonly mlp: Module }>;
  readonly norm: RMSNorm;
}

export interface ModelOptions {
  dtype?: 'float32' | 'float64';
  /** Seed of the HF-style random initialisation (normal(0, initializer_range), norms at 1). */
  seed?: number;
  /**
   * 'random' (default): HF's initialisation. 'empty': every parameter is a placeholder without storage
   * (same names, shapes and order) that loadStateDict sets, in the dtype the loaded tensor or the policy
   * gives — how fromPretrained builds a model it is about to load, without allocating its weights twice.
   */
  init?: 'random' | 'empty';
}

/** A ForCausalLM: `model` (the decoder stack) and `lm_head`, built and run by each architecture's subclass. */
export abstract class CausalLM extends Module {
  readonly config: ModelConfig;
  readonly dtype: 'float32' | 'float64';
  abstract readonly model: DecoderModel;
  abstract readonly lm_head: Linear;

  protected constructor(config: ModelConfig, opts: ModelOptions) {
    super();
    this.config = config;
    this.dtype = opts.dtype ?? 'float32';
  }

  /** ids [B, T] → logits [B, T, V], HF's loss with `labels`, and what else `opts` asks for. */
  abstract forward(inputIds: Tensor, opts?: ForwardOptions): CausalLMOutput;

  /**
   * HF's _init_weights: Linear and Embedding ~ normal(0, initializer_range), norms at 1. One generator
   * for the whole model, so the weights depend on the order modules are created in (HF's order).
   */
  protected initializer(seed = 0, init: ModelOptions['init'] = 'random'): Init {
    return { dtype: this.dtype, generator: new Generator(seed), std: this.config.initializer_range, empty: init === 'empty' };
  }

  /** With tie_word_embeddings, lm_head.weight *is* the embedding (one tensor, gradients from both uses). */
  protected tieWeights(): void {
    if (this.config.tie_word_embeddings) this.lm_head.setParameter('weight', this.model.embed_tokens.weight);
  }

  override stateDict(prefix = ''): Map<string, Tensor> {
    const sd = super.stateDict(prefix);
    // A tied lm_head is not written (HF's save_pretrained leaves it out).
    if (this.config.tie_word_embeddings) sd.delete(`${prefix}lm_head.weight`);
    return sd;
  }

  override loadStateDict(get: (key: string) => Tensor | undefined, dtype: LoadDtype, prefix = ''): Set<string> {
    const tiedGet = this.config.tie_word_embeddings
      ? (k: string) => get(k) ?? (k === `${prefix}lm_head.weight` ? get(`${prefix}model.embed_tokens.weight`) : undefined)
      : get;
    const used = super.loadStateDict(tiedGet, dtype, prefix);
    this.tieWeights();
    return used;
  }

  /**
   * Keep every Linear weight (projections, experts, lm_head) quantized to q8_0 or q4_0, ggml's block formats
   * (blocks of 32 along the input dimension; an expert stack [E, I, C] along C); embed_tokens, the norms
   * and the router stay as they are. The weights become frozen (no gradient).
   */
  quantize(format: QuantFormat): this {
    return this.convertWeights({ dtype: 'auto', quantize: format });
  }

  /** Keep every weight but the norms and the router (float32) in `dtype`: bfloat16/float16 halve the memory. */
  toStorage(dtype: 'bfloat16' | 'float16' | 'float32'): this {
    return this.convertWeights({ dtype });
  }

  /** Convert the weights by the policy of model/weights_dtype.ts, one tensor at a time (a reload of our own state dict). */
  convertWeights(opts: WeightsDtypeOptions): this {
    const sd = this.stateDict();
    const policy = weightsPolicy(opts);
    // Every shape is checked first (a q8_0 row must be a multiple of 32), so a refusal leaves the model as it was.
    for (const [k, t] of sd) {
      try {
        storageLength(policy(k, t), t.shape);
      } catch (e) {
        throw new Error(`convertWeights: '${k}' cannot be kept as ${policy(k, t)}: ${(e as Error).message}`);
      }
    }
    this.loadStateDict((k) => sd.get(k), policy);
    return this;
  }

  /**
   * Run `f` on the backend the weights live on: what the forward creates itself (RoPE tables, the
   * padding mask) goes there too, so a model on the GPU backend runs without the caller switching.
   */
  protected onWeightsBackend<T>(f: () => T): T {
    return withBackend(this.model.embed_tokens.weight.storage.backend, f);
  }

  /** Check the ids and build what every layer reads: RoPE tables for these positions, the padding mask, the cache. */
  protected layerContext(inputIds: Tensor, opts: ForwardOptions): LayerContext {
    if (inputIds.ndim !== 2 || inputIds.dtype !== 'int32')
      throw new Error(`forward: input ids must be int32 [B, T], got ${inputIds.dtype} [${inputIds.shape}]`);
    const T = inputIds.shape[1];
    const offset = opts.cache?.length ?? 0;
    const { cos, sin } = rotaryTables(this.config, opts.positionIds ?? { offset, length: T }, this.dtype);
    const ctx: LayerContext = {
      cos,
      sin,
      offset,
      cache: opts.cache,
      mask: opts.attentionMask && paddingMask(opts.attentionMask, this.dtype),
    };
    if (opts.outputAttentions) ctx.attentions = [];
    return ctx;
  }

  /** The output around the logits: router logits, and the hidden states and attentions when asked for. */
  protected outputOf(logits: Tensor, m: BaseModelOutput, ctx: LayerContext): CausalLMOutput {
    const out: CausalLMOutput = { logits, routerLogits: m.routerLogits ?? [] };
    if (m.hiddenStates) out.hiddenStates = m.hiddenStates;
    if (ctx.attentions) out.attentions = ctx.attentions;
    return out;
  }

  /** How many layers are sparse (MoE). */
  sparseLayers(): number[] {
    return Array.from({ length: this.config.num_hidden_layers }, (_, i) => i).filter((i) => isSparseLayer(this.config, i));
  }
}

/**
 * HF's ForCausalLMLoss: position t predicts token t+1 (labels shifted left, the last position gets
 * -100), then one cross-entropy mean over every non-ignored target of the batch.
 */
export function causalLmLoss(logits: Tensor, labels: Tensor): Tensor {
  const [B, T] = labels.shape;
  const pad = full([B, 1], -100, { dtype: 'int32', backend: labels.storage.backend });
  const targets = T > 1 ? cat([labels.narrow(1, 1, T - 1), pad], 1) : pad;
  return crossEntropy(logits, targets, { ignoreIndex: -100 });
}

/** 1/0 key mask [B, Tk] → additive [B, 1, 1, Tk]: 0 where kept, the dtype's most negative value where padded (as HF). */
export function paddingMask(mask: Tensor, dtype: 'float32' | 'float64'): Tensor {
  const min = dtype === 'float32' ? -3.4028234663852886e38 : -Number.MAX_VALUE;
  return mask.to(dtype).neg().add(1).mul(min).reshape(mask.shape[0], 1, 1, mask.shape[1]);
}
