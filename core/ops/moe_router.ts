// The MoE router and its losses, as compositions of existing ops (so their gradients come from
// autograd): softmax over expert logits, top-k on the probabilities, optional renormalisation; HF's
// load-balancing loss and the router z-loss; expert-load statistics for logging; and `sparseMoe`,
// the whole sparse block (router → experts) as Qwen3MoeSparseMoeBlock computes it.

import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { oneHot } from './indexing.js';
import { cat } from './join.js';
import { linear } from './linear.js';
import { moeExperts } from './moe.js';
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

/** Pool the sparse layers' router logits [N, E] into one [L·N, E] (as HF does — not a mean of per-layer losses). */
function pooled(routerLogits: readonly Tensor[]): Tensor {
  if (routerLogits.length === 0) throw new Error('moe loss: no router logits (the model has no sparse layer)');
  return routerLogits.length === 1 ? routerLogits[0] : cat(routerLogits, 0);
}

/**
 * HF's load_balancing_loss_func: E · Σ_e f_e·P_e over all sparse layers' tokens together, f_e the fraction
 * of top-k assignments to expert e and P_e its mean router probability. Not divided by k (perfect balance
 * gives k). Only P carries gradient.
 */
export function loadBalancingLoss(routerLogits: readonly Tensor[], numExperts: number, k: number): Tensor {
  const z = pooled(routerLogits);
  if (z.shape[1] !== numExperts) throw new Error(`loadBalancingLoss: logits have ${z.shape[1]} experts, expected ${numExperts}`);
  const p = softmax(z, -1);
  const chosen = topk(p, k).indices;
  const fraction = oneHot(chosen, numExperts, { dtype: p.dtype }).mean(0); // [K, E]
  return fraction.mul(p.mean(0).unsqueeze(0)).sum().mul(numExperts);
}

/** Router z-loss (ST-MoE): the mean over tokens of logsumexp(router logits)², which keeps logits small. */
export function routerZLoss(routerLogits: readonly Tensor[]): Tensor {
  return pooled(routerLogits).logsumexp(-1).square().mean();
}

export interface ExpertLoad {
  /** Assignments each expert received (before any capacity limit). */
  tokensPerExpert: number[];
  /** Assignments each expert dropped for lack of capacity. */
  dropped: number[];
  /** Dropped assignments / all assignments. */
  dropRate: number;
}

/** Per-expert load for logging (reads the indices back to the host). */
export function expertLoad(indices: Tensor, numExperts: number, capacity?: number): ExpertLoad {
  const tokensPerExpert = new Array<number>(numExperts).fill(0);
  for (const e of indices.dataSync()) tokensPerExpert[e]++;
  const dropped = tokensPerExpert.map((c) => (capacity === undefined ? 0 : Math.max(0, c - capacity)));
  const total = indices.numel();
  return { tokensPerExpert, dropped, dropRate: total === 0 ? 0 : dropped.reduce((a, b) => a + b, 0) / total };
}

export interface SparseMoeParams {
  /** Router weight [E, H] (HF `mlp.gate.weight`). */
  router: Tensor;
  /** Stacked expert weights: gate and up [E, I, H], down [E, H, I]. */
  gate: Tensor;
  up: Tensor;
  down: Tensor;
}

export interface SparseMoeOptions {
  k: number;
  normTopkProb: boolean;
  /** Tokens an expert may take, as a multiple of the even share N·K/E (Switch Transformer); default: dropless. */
  capacityFactor?: number;
}

export interface SparseMoeOutput {
  out: Tensor;
  /** Raw router logits [N, E] (for the balancing losses). */
  routerLogits: Tensor;
  routing: Routing;
  /** Per-expert capacity used, if any. */
  capacity?: number;
}

/** Qwen3MoeSparseMoeBlock on h [..., H]: logits = h·routerᵀ, route, run the experts, combine. */
export function sparseMoe(h: Tensor, p: SparseMoeParams, opts: SparseMoeOptions): SparseMoeOutput {
  const H = h.shape.at(-1)!;
  const x = h.reshape(-1, H);
  const routerLogits = linear(x, p.router);
  const routing = routeTopK(routerLogits, opts.k, opts.normTopkProb);
  const [N, E] = [x.shape[0], p.router.shape[0]];
  const capacity = opts.capacityFactor === undefined ? undefined : Math.ceil((opts.capacityFactor * N * opts.k) / E);
  const out = moeExperts(x, routing.weights, routing.indices, p, { capacity });
  return { out: out.reshape(...h.shape), routerLogits, routing, capacity };
}
