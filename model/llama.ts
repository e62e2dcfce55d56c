// LlamaForCausalLM as HF's modeling_llama.py computes it (LLM-jp-4 8B), one class per block and the HF
// parameter names, so checkpoints load by name. Shapes: B batch, T time, H hidden, NH heads, KVH kv heads,
// HS head size, V vocab, I MLP width.

import { attention, attentionWeights, rope, swiglu, type Tensor } from '../core/index.js';
import type { ModelConfig } from './config.js';
import { DecoderLayer, type LayerContext, type Mlp } from './decoder.js';
import { Linear, RMSNorm, type Init } from './modules/basic.js';
import { Module } from './modules/module.js';

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

  /** Per-head normalisation of q and k before RoPE: none for Llama (Qwen3 overrides). */
  protected normalizeQK(q: Tensor, k: Tensor): [Tensor, Tensor] {
    return [q, k];
  }

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
    const a = attention(q, kv.k, kv.v, opts);
    // The fused kernel keeps no T×T matrix; when asked, the probabilities are computed once more, plainly.
    if (ctx.attentions) ctx.attentions.push(attentionWeights(q, kv.k, opts));
    return this.o_proj.forward(a.transpose(1, 2).reshape(B, T, this.NH * this.HS)); // [B, T, H]
  }
}

/** down(silu(gate(x)) · up(x)). */
export class LlamaMLP extends Module implements Mlp {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;

  constructor(hidden: number, width: number, init: Init) {
    super();
    this.gate_proj = this.addModule('gate_proj', new Linear(hidden, width, init));
    this.up_proj = this.addModule('up_proj', new Linear(hidden, width, init));
    this.down_proj = this.addModule('down_proj', new Linear(width, hidden, init));
  }

  forward(h: Tensor): { out: Tensor } {
    return { out: this.down_proj.forward(swiglu(this.gate_proj.forward(h), this.up_proj.forward(h))) };
  }
}

export function llamaDecoderLayer(c: ModelConfig, i: number, init: Init): DecoderLayer {
  return new DecoderLayer({
    input_layernorm: new RMSNorm(c.hidden_size, c.rms_norm_eps, init),
    self_attn: new LlamaAttention(c, i, init),
    post_attention_layernorm: new RMSNorm(c.hidden_size, c.rms_norm_eps, init),
    mlp: new LlamaMLP(c.hidden_size, c.intermediate_size, init),
  });
}
