// What the Llama and Qwen3-MoE decoders share: the per-layer context (RoPE tables, mask, KV cache), the
// pre-norm decoder layer (x + attn(norm(x)), then x + mlp(norm(x))), and the causal-LM loss with HF's
// label shift. Each architecture file supplies its attention and MLP blocks.

import { cat, crossEntropy, full, type Tensor } from '../core/index.js';
import type { KVCache } from './kv_cache.js';
import { RMSNorm } from './modules/basic.js';
import { Module } from './modules/module.js';

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

export interface Attention extends Module {
  forward(h: Tensor, ctx: LayerContext): Tensor;
}

export interface Mlp extends Module {
  /** The MLP output; sparse blocks also return their router logits [N, E]. */
  forward(h: Tensor): { out: Tensor; routerLogits?: Tensor };
}

/** LlamaDecoderLayer / Qwen3MoeDecoderLayer: pre-norm residual blocks around attention and the MLP. */
export class DecoderLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: Attention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: Mlp;

  constructor(parts: { input_layernorm: RMSNorm; self_attn: Attention; post_attention_layernorm: RMSNorm; mlp: Mlp }) {
    super();
    this.self_attn = this.addModule('self_attn', parts.self_attn);
    this.mlp = this.addModule('mlp', parts.mlp);
    this.input_layernorm = this.addModule('input_layernorm', parts.input_layernorm);
    this.post_attention_layernorm = this.addModule('post_attention_layernorm', parts.post_attention_layernorm);
  }

  forward(x: Tensor, ctx: LayerContext): { hidden: Tensor; routerLogits?: Tensor } {
    const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), ctx));
    const { out, routerLogits } = this.mlp.forward(this.post_attention_layernorm.forward(h));
    return { hidden: h.add(out), routerLogits };
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
