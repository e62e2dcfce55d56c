// The MoE router's top-k routing as a composition of existing ops (so its gradient comes from autograd):
// softmax over expert logits, top-k on the probabilities, optional renormalisation. The model's sparse
// block (model/qwen3_moe.ts) writes the same steps out in its forward; the losses on router logits
// (load balancing, z-loss) and expert-load statistics are model code (model/moe_losses.ts).

import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { softmax } from './softmax.js';
import { topk } from './sort.js';

export interface Routing {
  /** softmax(logits) [N, E]. */
  probs: Tensor;
  /** The k chosen experts per token [N, K] (int32), by descending probability; ties go to the lower index. */
  indices: Tensor;
  /** Their weights [N, K]: the probabilities, or renormalised to sum to 1 with normTopkProb. */
  weights: Tensor;
}

/** Route tokens: p = softmax(logits); top-k over p; w = p_top (/ Σ p_top with normTopkProb). The router learns only through w. */
export function routeTopK(logits: Tensor, k: number, normTopkProb: boolean): Routing {
  if (logits.ndim !== 2) throw new Error(`routeTopK: logits must be [N, E], got ${fmt(logits.shape)}`);
  if (!Number.isInteger(k) || k < 1 || k > logits.shape[1])
    throw new Error(`routeTopK: k = ${k} must be in [1, ${logits.shape[1]}]`);
  const probs = softmax(logits, -1);
  const { values, indices } = topk(probs, k);
  return { probs, indices, weights: normTopkProb ? values.div(values.sum(-1, true)) : values };
}
