// Qwen3MoeForCausalLM's blocks as HF's modeling_qwen3_moe.py computes them (LLM-jp-4 32B-A3B): the
// attention adds a per-head RMSNorm of q and k before RoPE; sparse layers route each token to K of E
// SwiGLU experts. Expert weights are stored stacked ([E, I, H], the layout the grouped kernel wants)
// and appear in the state dict under HF's per-expert names, as views.

import { randn, sparseMoe, stack, type Tensor } from '../core/index.js';
import { isSparseLayer, type ModelConfig, type Qwen3MoeConfig } from './config.js';
import { DecoderLayer, type Mlp } from './decoder.js';
import { LlamaAttention, LlamaMLP } from './llama.js';
import { Linear, RMSNorm, type Init } from './modules/basic.js';
import { expectShape, Module } from './modules/module.js';

export class Qwen3MoeAttention extends LlamaAttention {
  readonly q_norm: RMSNorm;
  readonly k_norm: RMSNorm;

  constructor(c: ModelConfig, layerIdx: number, init: Init) {
    super(c, layerIdx, init);
    this.q_norm = this.addModule('q_norm', new RMSNorm(c.head_dim, c.rms_norm_eps, init));
    this.k_norm = this.addModule('k_norm', new RMSNorm(c.head_dim, c.rms_norm_eps, init));
  }

  /** RMSNorm over each head's HS values (one weight [HS] shared by all heads), before RoPE. */
  protected override normalizeQK(q: Tensor, k: Tensor): [Tensor, Tensor] {
    return [this.q_norm.forward(q), this.k_norm.forward(k)];
  }
}

/** All E experts' gate/up/down projections, stacked; HF names them `{e}.gate_proj.weight`, … */
export class Qwen3MoeExperts extends Module {
  gate_proj: Tensor; // [E, I, H]
  up_proj: Tensor; // [E, I, H]
  down_proj: Tensor; // [E, H, I]

  constructor(E: number, H: number, I: number, init: Init) {
    super();
    const w = (...shape: number[]) => randn(shape, { dtype: init.dtype, generator: init.generator }).mul(init.std);
    this.gate_proj = this.addParameter('gate_proj', w(E, I, H));
    this.up_proj = this.addParameter('up_proj', w(E, I, H));
    this.down_proj = this.addParameter('down_proj', w(E, H, I));
  }

  protected override ownStateEntries(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (let e = 0; e < this.gate_proj.shape[0]; e++) {
      for (const n of ['gate_proj', 'up_proj', 'down_proj'] as const) out.push([`${e}.${n}.weight`, this[n].select(0, e)]);
    }
    return out;
  }

  protected override loadOwn(get: (key: string) => Tensor | undefined, dtype: Tensor['dtype'], prefix: string): Set<string> {
    const used = new Set<string>();
    for (const n of ['gate_proj', 'up_proj', 'down_proj'] as const) {
      const [E, ...one] = this[n].shape;
      const parts = Array.from({ length: E }, (_, e) => {
        const key = `${prefix}${e}.${n}.weight`;
        const t = get(key);
        if (!t) throw new Error(`loadStateDict: missing '${key}' (expected [${one.join(',')}])`);
        expectShape(key, t, one);
        used.add(key);
        return t.to(dtype);
      });
      this.setParameter(n, stack(parts, 0).detach().requiresGrad_());
    }
    return used;
  }
}

/** Qwen3MoeSparseMoeBlock: router `gate` [E, H], softmax top-k routing, K experts per token, combined. */
export class Qwen3MoeSparseMoeBlock extends Module implements Mlp {
  readonly gate: Linear;
  readonly experts: Qwen3MoeExperts;
  readonly k: number;
  readonly normTopkProb: boolean;

  constructor(c: Qwen3MoeConfig, init: Init) {
    super();
    [this.k, this.normTopkProb] = [c.num_experts_per_tok, c.norm_topk_prob];
    this.gate = this.addModule('gate', new Linear(c.hidden_size, c.num_experts, init));
    this.experts = this.addModule('experts', new Qwen3MoeExperts(c.num_experts, c.hidden_size, c.moe_intermediate_size, init));
  }

  /** h [B, T, H] → out [B, T, H] and the router logits [B·T, E]. */
  forward(h: Tensor): { out: Tensor; routerLogits: Tensor } {
    const e = this.experts;
    const r = sparseMoe(
      h,
      { router: this.gate.weight, gate: e.gate_proj, up: e.up_proj, down: e.down_proj },
      { k: this.k, normTopkProb: this.normTopkProb },
    );
    return { out: r.out, routerLogits: r.routerLogits };
  }
}

export function qwen3MoeDecoderLayer(c: Qwen3MoeConfig, i: number, init: Init): DecoderLayer {
  return new DecoderLayer({
    input_layernorm: new RMSNorm(c.hidden_size, c.rms_norm_eps, init),
    self_attn: new Qwen3MoeAttention(c, i, init),
    post_attention_layernorm: new RMSNorm(c.hidden_size, c.rms_norm_eps, init),
    // Sparse unless listed in mlp_only_layers or off the decoder_sparse_step grid.
    mlp: isSparseLayer(c, i) ? new Qwen3MoeSparseMoeBlock(c, init) : new LlamaMLP(c.hidden_size, c.intermediate_size, init),
  });
}
