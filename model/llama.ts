// LlamaForCausalLM as HF's modeling_llama.py computes it (LLM-jp-4 8B): LlamaAttention, LlamaMLP,
// LlamaDecoderLayer, LlamaModel and LlamaForCausalLM, fields named as the HF state-dict keys so
// checkpoints load by name. Shapes: B batch, T time, C channels (hidden), V vocab, NH heads, KVH kv
// heads, HS head size, I MLP width. What both architectures share is in causal_lm_base.ts.

import { attention, attentionWeights, rope, swiglu, type Tensor } from '../core/index.js';
import {
  CausalLM,
  causalLmLoss,
  type BaseModelOutput,
  type CausalLMOutput,
  type ForwardOptions,
  type LayerContext,
  type ModelOptions,
} from './causal_lm_base.js';
import type { LlamaConfig, ModelConfig } from './config.js';
import { Embedding, Linear, RMSNorm, type Init } from './modules/basic.js';
import { Module, ModuleList } from './modules/module.js';

export class LlamaAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  protected readonly NH: number;
  protected readonly KVH: number;
  protected readonly HS: number;

  constructor(
    c: ModelConfig,
    readonly layerIdx: number,
    init: Init,
  ) {
    super();
    [this.NH, this.KVH, this.HS] = [c.num_attention_heads, c.num_key_value_heads, c.head_dim];
    this.q_proj = this.addModule('q_proj', new Linear(c.hidden_size, this.NH * this.HS, init));
    this.k_proj = this.addModule('k_proj', new Linear(c.hidden_size, this.KVH * this.HS, init));
    this.v_proj = this.addModule('v_proj', new Linear(c.hidden_size, this.KVH * this.HS, init));
    this.o_proj = this.addModule('o_proj', new Linear(this.NH * this.HS, c.hidden_size, init));
  }

  /** Per-head normalisation of q and k before RoPE: none for Llama (Qwen3MoeAttention overrides it). */
  protected normalizeQK(q: Tensor, k: Tensor): [Tensor, Tensor] {
    return [q, k];
  }

  /** h [B, T, C] (the normalised residual stream) → [B, T, C]. */
  forward(h: Tensor, ctx: LayerContext): Tensor {
    const [B, T] = h.shape;
    let q = this.q_proj.forward(h).reshape(B, T, this.NH, this.HS); // [B, T, NH, HS]
    let k = this.k_proj.forward(h).reshape(B, T, this.KVH, this.HS); // [B, T, KVH, HS]
    const v = this.v_proj.forward(h).reshape(B, T, this.KVH, this.HS).transpose(1, 2); // [B, KVH, T, HS]
    [q, k] = this.normalizeQK(q, k);
    q = rope(q.transpose(1, 2), ctx.cos, ctx.sin); // [B, NH, T, HS]
    k = rope(k.transpose(1, 2), ctx.cos, ctx.sin); // [B, KVH, T, HS]
    const kv = ctx.cache ? ctx.cache.update(this.layerIdx, k, v) : { k, v }; // [B, KVH, offset + T, HS]
    // Query head j reads kv head ⌊j / (NH/KVH)⌋ (repeat_kv); scale HS^−0.5; causal from `offset`.
    const opts = { causal: true, offset: ctx.offset, mask: ctx.mask };
    const a = attention(q, kv.k, kv.v, opts); // [B, NH, T, HS]
    // The fused kernel keeps no T×T matrix; when asked, the probabilities are computed once more, plainly.
    if (ctx.attentions) ctx.attentions.push(attentionWeights(q, kv.k, opts));
    return this.o_proj.forward(a.transpose(1, 2).reshape(B, T, this.NH * this.HS)); // [B, T, C]
  }
}

/** down(silu(gate(x)) · up(x)), the SwiGLU MLP (fused in core's `swiglu`). */
export class LlamaMLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;

  constructor(hidden: number, width: number, init: Init) {
    super();
    this.gate_proj = this.addModule('gate_proj', new Linear(hidden, width, init));
    this.up_proj = this.addModule('up_proj', new Linear(hidden, width, init));
    this.down_proj = this.addModule('down_proj', new Linear(width, hidden, init));
  }

  /** h [B, T, C] → [B, T, I] → [B, T, C]. */
  forward(h: Tensor): Tensor {
    return this.down_proj.forward(swiglu(this.gate_proj.forward(h), this.up_proj.forward(h)));
  }
}

/** A pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x)). */
export class LlamaDecoderLayer extends Module {
  readonly self_attn: LlamaAttention;
  readonly mlp: LlamaMLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;

  constructor(c: LlamaConfig, layerIdx: number, init: Init) {
    super();
    // HF's order: it fixes both the state-dict order and which random numbers each weight draws.
    this.self_attn = this.addModule('self_attn', new LlamaAttention(c, layerIdx, init));
    this.mlp = this.addModule('mlp', new LlamaMLP(c.hidden_size, c.intermediate_size, init));
    this.input_layernorm = this.addModule('input_layernorm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
    this.post_attention_layernorm = this.addModule('post_attention_layernorm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
  }

  /** x [B, T, C] → [B, T, C]. */
  forward(x: Tensor, ctx: LayerContext): Tensor {
    const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), ctx)); // [B, T, C]
    return h.add(this.mlp.forward(this.post_attention_layernorm.forward(h))); // [B, T, C]
  }
}

/** The decoder stack: embed_tokens, the layers, the final norm. */
export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;

  constructor(c: LlamaConfig, init: Init) {
    super();
    this.embed_tokens = this.addModule('embed_tokens', new Embedding(c.vocab_size, c.hidden_size, c.pad_token_id, init));
    const layers = Array.from({ length: c.num_hidden_layers }, (_, i) => new LlamaDecoderLayer(c, i, init));
    this.layers = this.addModule('layers', new ModuleList(layers));
    this.norm = this.addModule('norm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
  }

  /** ids [B, T] → norm(x_L) [B, T, C] (and every layer's output with outputHiddenStates). */
  forward(inputIds: Tensor, ctx: LayerContext, outputHiddenStates = false): BaseModelOutput {
    const embed = this.embed_tokens.forward(inputIds); // [B, T, C]
    let x = embed;
    const layers: Tensor[] = [];
    for (const layer of this.layers.items) {
      x = layer.forward(x, ctx); // [B, T, C]
      if (outputHiddenStates) layers.push(x);
    }
    // Every layer has written this step's keys and values: the cache now holds T more positions.
    if (ctx.cache) ctx.cache.length += inputIds.shape[1];
    const finalNorm = this.norm.forward(x); // [B, T, C]
    return outputHiddenStates
      ? { lastHiddenState: finalNorm, hiddenStates: { embed, layers, finalNorm } }
      : { lastHiddenState: finalNorm };
  }
}

export class LlamaForCausalLM extends CausalLM {
  declare readonly config: LlamaConfig;
  readonly model: LlamaModel;
  readonly lm_head: Linear;

  constructor(config: LlamaConfig, opts: ModelOptions = {}) {
    super(config, opts);
    const init = this.initializer(opts.seed, opts.init);
    this.model = this.addModule('model', new LlamaModel(config, init));
    this.lm_head = this.addModule('lm_head', new Linear(config.hidden_size, config.vocab_size, init));
    this.tieWeights();
  }

  forward(inputIds: Tensor, opts: ForwardOptions = {}): CausalLMOutput {
    return this.onWeightsBackend(() => {
      const ctx = this.layerContext(inputIds, opts); // RoPE tables, padding mask, KV cache
      const hidden = this.model.forward(inputIds, ctx, opts.outputHiddenStates); // [B, T, C]
      const logits = this.lm_head.forward(hidden.lastHiddenState); // [B, T, V]
      const out = this.outputOf(logits, hidden, ctx);
      if (opts.labels) out.loss = out.ceLoss = causalLmLoss(logits, opts.labels);
      return out;
    });
  }
}
