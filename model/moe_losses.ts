// What training adds around a mixture-of-experts model, as compositions of core ops (so autograd gives
// their gradients): HF's load-balancing loss (load_balancing_loss_func), the router z-loss (ST-MoE), and
// per-expert load statistics for logging. Model code, not core: they read a model's router logits,
// while core keeps only the fused, differentiable pieces (routeTopK, moeExperts).

import { cat, oneHot, softmax, topk, type Tensor } from '../core/index.js';

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
  const z = pooled(routerLogits); // [L·N, E]
  if (z.shape[1] !== numExperts) throw new Error(`loadBalancingLoss: logits have ${z.shape[1]} experts, expected ${numExperts}`);
  const p = softmax(z, -1); // [L·N, E]
  const chosen = topk(p, k).indices; // [L·N, K]
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

/** Per-expert load of the chosen experts [N, K] for logging (reads the indices back to the host). */
export function expertLoad(indices: Tensor, numExperts: number, capacity?: number): ExpertLoad {
  const tokensPerExpert = new Array<number>(numExperts).fill(0);
  for (const e of indices.dataSync()) tokensPerExpert[e]++;
  const dropped = tokensPerExpert.map((c) => (capacity === undefined ? 0 : Math.max(0, c - capacity)));
  const total = indices.numel();
  return { tokensPerExpert, dropped, dropRate: total === 0 ? 0 : dropped.reduce((a, b) => a + b, 0) / total };
}
