// What the page shows for a text, computed in one forward pass: the tokens (SentencePiece pieces), the
// next-token distribution after the last one, every layer's attention probabilities (HF's
// output_attentions) and, for a MoE model, each token's experts and weights in every sparse layer
// (the router's top-k, as the model itself routes). Values are read back with `await data()`, which
// every backend supports (WebGPU reads are asynchronous).

import { noGrad, routeTopK, type Tensor } from '../../../core/index.js';
import { architecture, type CausalLM } from '../../../model/causal_lm.js';
import { idsTensor } from '../../../model/generate.js';
import type { Tokenizer } from '../../../model/tokenizer/tokenizer.js';

export interface Candidate {
  id: number;
  piece: string;
  p: number;
}

export interface Inspection {
  ids: number[];
  pieces: string[];
  /** Logits [T, V], row-major. */
  logits: Float32Array;
  /** The most likely next tokens after the last position, most likely first. */
  next: Candidate[];
  /** For each token after the first, the probability the model gave it one position earlier (null for the first). */
  given: (number | null)[];
  /** Per layer: probabilities [NH, T, T], row-major (query rows, key columns). */
  attentions: Float32Array[];
  heads: number;
  /** Per sparse layer: for each token its K experts, heaviest first. */
  routing: { layer: number; experts: { expert: number; weight: number }[][] }[];
}

const f32 = async (t: Tensor) => Float32Array.from(await t.data());

/** The logits [T·V] of one sequence — what `llmjp4 forward` prints for the same ids. */
export async function forwardLogits(model: CausalLM, ids: readonly number[]): Promise<Float32Array> {
  return f32(noGrad(() => model.forward(idsTensor(model, [ids])).logits));
}

export async function inspect(model: CausalLM, tokenizer: Tokenizer, text: string, topN = 10): Promise<Inspection> {
  const ids = tokenizer.encode(text); // with BOS, as the model was trained
  const c = model.config;
  const out = noGrad(() => model.forward(idsTensor(model, [ids]), { outputAttentions: true }));
  const logits = await f32(out.logits);
  const V = c.vocab_size;
  const next = topCandidates(logits.subarray((ids.length - 1) * V, ids.length * V), tokenizer, topN);
  const given = ids.map((id, t) => (t === 0 ? null : softmaxAt(logits.subarray((t - 1) * V, t * V), id)));
  const attentions = [];
  for (const a of out.attentions!) attentions.push(await f32(a));
  const routing = [];
  const moe = architecture(c).moe(c);
  if (moe) {
    const sparse = model.sparseLayers();
    const K = moe.num_experts_per_tok;
    for (let i = 0; i < out.routerLogits.length; i++) {
      const r = noGrad(() => routeTopK(out.routerLogits[i]!, K, moe.norm_topk_prob));
      const [idx, w] = [await r.indices.data(), await r.weights.data()];
      const experts = ids.map((_, t) =>
        Array.from({ length: K }, (_, k) => ({ expert: idx[t * K + k]!, weight: w[t * K + k]! })),
      );
      routing.push({ layer: sparse[i]!, experts });
    }
  }
  return {
    ids,
    pieces: ids.map((id) => tokenizer.idToPiece(id)),
    logits,
    next,
    given,
    attentions,
    heads: c.num_attention_heads,
    routing,
  };
}

/** A row's max and Σ exp(x − max): softmax(row)[i] = exp(row[i] − max) / sum, computed stably. */
function softmaxStats(row: ArrayLike<number>): { max: number; sum: number } {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return { max, sum };
}

export function softmaxAt(row: ArrayLike<number>, id: number): number {
  const { max, sum } = softmaxStats(row);
  return Math.exp(row[id]! - max) / sum;
}

/** softmax over one row of logits, and its `n` most likely tokens. */
export function topCandidates(row: ArrayLike<number>, tokenizer: Tokenizer, n: number): Candidate[] {
  const { max, sum } = softmaxStats(row);
  const order = Array.from({ length: row.length }, (_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
  return order.slice(0, n).map((id) => ({ id, piece: tokenizer.idToPiece(id), p: Math.exp(row[id]! - max) / sum }));
}
