// The tensors an HF checkpoint of a config holds — names, shapes, and how HF initialises each — listed in
// the order the model creates them, without allocating any: what `llmjp4 init` writes one at a time. The
// values equal createModel(config, { seed }) (float32) bit for bit, because they are drawn from the same
// generator in the same order; the tests check the list and the values against the model itself.

import { Generator } from '../../core/random.js';
import { architecture } from '../auto.js';
import { isSparseLayer, type ModelConfig } from '../config.js';

/** How a tensor starts: normal(0, initializer_range) (an embedding's padding row zeroed), or ones (norms). */
export type InitKind = 'normal' | 'embedding' | 'ones';

export interface PlannedTensor {
  /** HF state-dict name. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
  /**
   * Stacked experts draw one [E, ...] tensor and HF stores its E slices under separate names: the
   * slices after the first continue the same draw (`continues` is true), so no random number is skipped.
   */
  readonly continues?: boolean;
}

/** Every tensor of a checkpoint of `c`, in creation order (tied lm_head left out, as HF's save_pretrained does). */
export function checkpointPlan(c: ModelConfig): PlannedTensor[] {
  const { hidden_size: H, num_attention_heads: NH, num_key_value_heads: KVH, head_dim: HS } = c;
  const arch = architecture(c);
  const moe = arch.moe(c);
  const out: PlannedTensor[] = [];
  const add = (name: string, shape: number[], init: InitKind, continues = false) => out.push({ name, shape, init, continues });
  const mlp = (p: string, width: number) => {
    add(`${p}.gate_proj.weight`, [width, H], 'normal');
    add(`${p}.up_proj.weight`, [width, H], 'normal');
    add(`${p}.down_proj.weight`, [H, width], 'normal');
  };

  add('model.embed_tokens.weight', [c.vocab_size, H], 'embedding');
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.self_attn.q_proj.weight`, [NH * HS, H], 'normal');
    add(`${p}.self_attn.k_proj.weight`, [KVH * HS, H], 'normal');
    add(`${p}.self_attn.v_proj.weight`, [KVH * HS, H], 'normal');
    add(`${p}.self_attn.o_proj.weight`, [H, NH * HS], 'normal');
    if (arch.qkNorm) {
      add(`${p}.self_attn.q_norm.weight`, [HS], 'ones');
      add(`${p}.self_attn.k_norm.weight`, [HS], 'ones');
    }
    if (moe && isSparseLayer(c, l)) {
      const [E, I] = [moe.num_experts, moe.moe_intermediate_size];
      add(`${p}.mlp.gate.weight`, [E, H], 'normal');
      // Qwen3MoeExperts draws gate_proj [E, I, H], then up_proj, then down_proj [E, H, I].
      for (const [proj, shape] of [
        ['gate_proj', [I, H]],
        ['up_proj', [I, H]],
        ['down_proj', [H, I]],
      ] as const) {
        for (let e = 0; e < E; e++) add(`${p}.mlp.experts.${e}.${proj}.weight`, [...shape], 'normal', e > 0);
      }
    } else {
      mlp(`${p}.mlp`, c.intermediate_size);
    }
    add(`${p}.input_layernorm.weight`, [H], 'ones');
    add(`${p}.post_attention_layernorm.weight`, [H], 'ones');
  }
  add('model.norm.weight', [H], 'ones');
  if (!c.tie_word_embeddings) add('lm_head.weight', [c.vocab_size, H], 'normal');
  return out;
}

/**
 * The values of the plan's tensors, one at a time and in plan order, as createModel draws them: randn
 * fills a tensor pairwise from Box–Muller (an odd-sized tensor drops its last pair's second normal),
 * scales by initializer_range in float32, and the embedding's padding row is zeroed.
 */
export class PlanValues {
  readonly #gen: Generator;
  readonly #std: number;
  readonly #pad: number | null;
  /** The second normal of a pair, kept for the next slice of a stacked draw. */
  #spare: number | null = null;

  constructor(c: ModelConfig, seed: number) {
    this.#gen = new Generator(seed);
    this.#std = Math.fround(c.initializer_range);
    this.#pad = c.pad_token_id ?? null;
  }

  /** The next tensor's float32 values (call once per planned tensor, in order). */
  next(t: PlannedTensor): Float32Array {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (t.init === 'ones') return out.fill(1);
    if (!t.continues) this.#spare = null;
    let i = 0;
    if (this.#spare !== null && n > 0) ((out[i++] = this.#spare), (this.#spare = null));
    for (; i < n; i += 2) {
      const [z0, z1] = this.#gen.nextNormalPair();
      out[i] = z0;
      if (i + 1 < n) out[i + 1] = z1;
      else this.#spare = Math.fround(z1);
    }
    // randn stores float32 normals; .mul(std) multiplies them by the float32 std and rounds to float32.
    for (let j = 0; j < n; j++) out[j] = out[j]! * this.#std;
    if (t.init === 'embedding' && this.#pad !== null && this.#pad >= 0 && this.#pad < t.shape[0]!) {
      const row = t.shape[1]!;
      out.fill(0, this.#pad * row, (this.#pad + 1) * row);
    }
    return out;
  }
}
