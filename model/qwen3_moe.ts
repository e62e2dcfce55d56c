// Qwen3MoeForCausalLM as HF's modeling_qwen3_moe.py computes it (LLM-jp-4 32B-A3B): the attention adds a
// per-head RMSNorm of q and k before RoPE; sparse layers route each token to K of E SwiGLU experts, the
// router written out in Qwen3MoeSparseMoeBlock.forward and the experts run by core's fused `moeExperts`.
// Expert weights are stored stacked ([E, I, C]) and appear in the state dict under HF's per-expert names.

import { moeExperts, softmax, topk, type Tensor } from '../core/index.js';
import { isStorageDtype } from '../core/dtype.js';
import {
  CausalLM,
  causalLmLoss,
  type BaseModelOutput,
  type CausalLMOutput,
  type ForwardOptions,
  type LayerContext,
  type ModelOptions,
} from './causal_lm_base.js';
import { isSparseLayer, type Qwen3MoeConfig } from './config.js';
import { LlamaAttention, LlamaMLP } from './llama.js';
import { loadBalancingLoss } from './moe_losses.js';
import { moeStoredExperts } from './moe_stored.js';
import { Embedding, initWeight, Linear, RMSNorm, type Init } from './modules/basic.js';
import { asParameter, dtypeFor, expectShape, Module, ModuleList, type LoadDtype } from './modules/module.js';
import { stackStored } from './modules/stack_stored.js';

/**
 * LlamaAttention plus q_norm and k_norm. HF writes Qwen3MoeAttention as its own class; here it extends
 * LlamaAttention and overrides the one step where the two differ (normalizeQK), so the rest is shared.
 */
export class Qwen3MoeAttention extends LlamaAttention {
  readonly q_norm: RMSNorm;
  readonly k_norm: RMSNorm;

  constructor(c: Qwen3MoeConfig, layerIdx: number, init: Init) {
    super(c, layerIdx, init);
    this.q_norm = this.addModule('q_norm', new RMSNorm(c.head_dim, c.rms_norm_eps, init));
    this.k_norm = this.addModule('k_norm', new RMSNorm(c.head_dim, c.rms_norm_eps, init));
  }

  /** RMSNorm over each head's HS values (one weight [HS] shared by all heads), before RoPE. */
  protected override normalizeQK(q: Tensor, k: Tensor): [Tensor, Tensor] {
    return [this.q_norm.forward(q), this.k_norm.forward(k)];
  }
}

/** HF's Qwen3MoeMLP is LlamaMLP line for line (the MLP of a dense layer); the class is reused under HF's name. */
export class Qwen3MoeMLP extends LlamaMLP {}

/** All E experts' gate/up/down projections, stacked; HF names them `{e}.gate_proj.weight`, … */
export class Qwen3MoeExperts extends Module {
  gate_proj: Tensor; // [E, I, C]
  up_proj: Tensor; // [E, I, C]
  down_proj: Tensor; // [E, C, I]

  constructor(E: number, C: number, I: number, init: Init) {
    super();
    const w = (...shape: number[]) => initWeight(init, shape);
    this.gate_proj = this.addParameter('gate_proj', w(E, I, C));
    this.up_proj = this.addParameter('up_proj', w(E, I, C));
    this.down_proj = this.addParameter('down_proj', w(E, C, I));
  }

  protected override ownStateEntries(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (let e = 0; e < this.gate_proj.shape[0]; e++) {
      for (const n of ['gate_proj', 'up_proj', 'down_proj'] as const) out.push([`${e}.${n}.weight`, this[n].select(0, e)]);
    }
    return out;
  }

  protected override loadOwn(get: (key: string) => Tensor | undefined, dtype: LoadDtype, prefix: string): Set<string> {
    const used = new Set<string>();
    for (const n of ['gate_proj', 'up_proj', 'down_proj'] as const) {
      const [E, ...one] = this[n].shape;
      const parts = Array.from({ length: E }, (_, e) => {
        const key = `${prefix}${e}.${n}.weight`;
        const t = get(key);
        if (!t) throw new Error(`loadStateDict: missing '${key}' (expected [${one.join(',')}])`);
        expectShape(key, t, one);
        used.add(key);
        // Each expert converts on its own (a q8_0 [I, C] quantizes along C, the stacked weight's last axis).
        return t.to(dtypeFor(dtype, key, t));
      });
      this.setParameter(n, asParameter(stackStored(parts, `loadStateDict: ${prefix}${n}`), parts[0]!.dtype));
    }
    return used;
  }
}

/** The block's sizes, as Qwen3MoeConfig names them. */
export type SparseMoeConfig = Pick<
  Qwen3MoeConfig,
  'hidden_size' | 'num_experts' | 'num_experts_per_tok' | 'moe_intermediate_size' | 'norm_topk_prob'
>;

/** The router `gate` [E, C] sends each token to its K most probable experts; their outputs are mixed by weight. */
export class Qwen3MoeSparseMoeBlock extends Module {
  readonly gate: Linear;
  readonly experts: Qwen3MoeExperts;
  readonly top_k: number;
  readonly norm_topk_prob: boolean;

  constructor(c: SparseMoeConfig, init: Init) {
    super();
    [this.top_k, this.norm_topk_prob] = [c.num_experts_per_tok, c.norm_topk_prob];
    this.gate = this.addModule('gate', new Linear(c.hidden_size, c.num_experts, init));
    this.experts = this.addModule('experts', new Qwen3MoeExperts(c.num_experts, c.hidden_size, c.moe_intermediate_size, init));
  }

  /** h [B, T, C] → out [B, T, C], and the router logits [B·T, E] (for the balancing losses). */
  forward(h: Tensor): { out: Tensor; routerLogits: Tensor } {
    const x = h.reshape(-1, h.shape.at(-1)!); // [N, C], N = B·T
    const routerLogits = this.gate.forward(x); // [N, E]
    // HF takes this softmax in float32; activations here are float32 already (or float64 for gradient checks).
    const probs = softmax(routerLogits, -1); // [N, E]
    const { values, indices } = topk(probs, this.top_k); // [N, K] each, by descending probability
    // The router learns only through these weights: the choice of experts (top-k) has no gradient.
    const weights = this.norm_topk_prob ? values.div(values.sum(-1, true)) : values; // [N, K]
    // Fused: sort the N·K assignments by expert, three GEMMs per expert over its rows, weighted scatter back.
    const e = this.experts;
    const w = { gate: e.gate_proj, up: e.up_proj, down: e.down_proj };
    // Experts kept as stored (bfloat16, q8_0, …) run one routed expert at a time on the stored-weight kernels.
    const stored = isStorageDtype(e.gate_proj.dtype);
    const out = stored ? moeStoredExperts(x, weights, indices, w) : moeExperts(x, weights, indices, w); // [N, C]
    return { out: out.reshape(...h.shape), routerLogits }; // [B, T, C]
  }
}

/** A pre-norm residual block whose MLP is the sparse block, or a dense Qwen3MoeMLP on mlp_only_layers. */
export class Qwen3MoeDecoderLayer extends Module {
  readonly self_attn: Qwen3MoeAttention;
  readonly mlp: Qwen3MoeSparseMoeBlock | Qwen3MoeMLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;

  constructor(c: Qwen3MoeConfig, layerIdx: number, init: Init) {
    super();
    // HF's order: it fixes both the state-dict order and which random numbers each weight draws.
    this.self_attn = this.addModule('self_attn', new Qwen3MoeAttention(c, layerIdx, init));
    // Sparse unless listed in mlp_only_layers or off the decoder_sparse_step grid.
    const mlp = isSparseLayer(c, layerIdx)
      ? new Qwen3MoeSparseMoeBlock(c, init)
      : new Qwen3MoeMLP(c.hidden_size, c.intermediate_size, init);
    this.mlp = this.addModule('mlp', mlp);
    this.input_layernorm = this.addModule('input_layernorm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
    this.post_attention_layernorm = this.addModule('post_attention_layernorm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
  }

  /** x [B, T, C] → [B, T, C], and the router logits [B·T, E] of a sparse layer. */
  forward(x: Tensor, ctx: LayerContext): { hidden: Tensor; routerLogits?: Tensor } {
    const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), ctx)); // [B, T, C]
    const normed = this.post_attention_layernorm.forward(h); // [B, T, C]
    if (this.mlp instanceof Qwen3MoeMLP) return { hidden: h.add(this.mlp.forward(normed)) };
    const { out, routerLogits } = this.mlp.forward(normed);
    return { hidden: h.add(out), routerLogits };
  }
}

/** The decoder stack: embed_tokens, the layers, the final norm; it also collects the sparse layers' router logits. */
export class Qwen3MoeModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<Qwen3MoeDecoderLayer>;
  readonly norm: RMSNorm;

  constructor(c: Qwen3MoeConfig, init: Init) {
    super();
    this.embed_tokens = this.addModule('embed_tokens', new Embedding(c.vocab_size, c.hidden_size, c.pad_token_id, init));
    const layers = Array.from({ length: c.num_hidden_layers }, (_, i) => new Qwen3MoeDecoderLayer(c, i, init));
    this.layers = this.addModule('layers', new ModuleList(layers));
    this.norm = this.addModule('norm', new RMSNorm(c.hidden_size, c.rms_norm_eps, init));
  }

  /** ids [B, T] → norm(x_L) [B, T, C], each sparse layer's router logits [B·T, E] (and every layer's output when asked). */
  forward(inputIds: Tensor, ctx: LayerContext, outputHiddenStates = false): BaseModelOutput & { routerLogits: Tensor[] } {
    const embed = this.embed_tokens.forward(inputIds); // [B, T, C]
    let x = embed;
    const layers: Tensor[] = [];
    const routerLogits: Tensor[] = [];
    for (const layer of this.layers.items) {
      const r = layer.forward(x, ctx);
      x = r.hidden; // [B, T, C]
      if (outputHiddenStates) layers.push(x);
      if (r.routerLogits) routerLogits.push(r.routerLogits); // [B·T, E]
    }
    // Every layer has written this step's keys and values: the cache now holds T more positions.
    if (ctx.cache) ctx.cache.length += inputIds.shape[1];
    const finalNorm = this.norm.forward(x); // [B, T, C]
    const out = { lastHiddenState: finalNorm, routerLogits };
    return outputHiddenStates ? { ...out, hiddenStates: { embed, layers, finalNorm } } : out;
  }
}

export class Qwen3MoeForCausalLM extends CausalLM {
  declare readonly config: Qwen3MoeConfig;
  readonly model: Qwen3MoeModel;
  readonly lm_head: Linear;

  constructor(config: Qwen3MoeConfig, opts: ModelOptions = {}) {
    super(config, opts);
    const init = this.initializer(opts.seed, opts.init);
    this.model = this.addModule('model', new Qwen3MoeModel(config, init));
    this.lm_head = this.addModule('lm_head', new Linear(config.hidden_size, config.vocab_size, init));
    this.tieWeights();
  }

  forward(inputIds: Tensor, opts: ForwardOptions = {}): CausalLMOutput {
    const c = this.config;
    return this.onWeightsBackend(() => {
      const ctx = this.layerContext(inputIds, opts); // RoPE tables, padding mask, KV cache
      const hidden = this.model.forward(inputIds, ctx, opts.outputHiddenStates); // [B, T, C]
      const logits = this.lm_head.forward(hidden.lastHiddenState); // [B, T, V]
      const out = this.outputOf(logits, hidden, ctx);
      // HF's load_balancing_loss_func over all sparse layers' tokens, when router logits are asked for.
      if ((opts.outputRouterLogits ?? c.output_router_logits) && out.routerLogits.length > 0) {
        out.auxLoss = loadBalancingLoss(out.routerLogits, c.num_experts, c.num_experts_per_tok);
      }
      if (opts.labels) {
        out.ceLoss = causalLmLoss(logits, opts.labels);
        out.loss = out.auxLoss ? out.ceLoss.add(out.auxLoss.mul(c.router_aux_loss_coef)) : out.ceLoss;
      }
      return out;
    });
  }
}
