// The experts of a sparse MoE layer when their weights are kept in a storage dtype (bfloat16, q8_0, …),
// which core's fused moeExperts does not take: each expert that received tokens runs its SwiGLU through
// the stored-weight linear kernels on its own rows, so decoding reads only the routed experts' weights.
// The math is moeExperts' (out = Σ_k w_k · down(silu(gate·x) ⊙ up·x)); gradients reach x and the weights.

import { linear, swiglu, tensor, zeros, type Tensor } from '../core/index.js';

/** Stacked stored experts: gate/up [E, I, C], down [E, C, I]. */
export interface StoredExperts {
  gate: Tensor;
  up: Tensor;
  down: Tensor;
}

/** x [N, C], routing weights [N, K] and expert ids [N, K] (int32) → [N, C]. */
export function moeStoredExperts(x: Tensor, weights: Tensor, indices: Tensor, w: StoredExperts): Tensor {
  const [N, C] = x.shape as [number, number];
  const K = indices.shape[1]!;
  // Which (token, slot) pairs each expert serves: read on the host, as the CPU kernels' dispatch plan is.
  const ids = indices.dataSync();
  const byExpert = new Map<number, { tokens: number[]; slots: number[] }>();
  for (let p = 0; p < N * K; p++) {
    const e = ids[p]!;
    const entry = byExpert.get(e) ?? { tokens: [], slots: [] };
    entry.tokens.push(Math.floor(p / K));
    entry.slots.push(p);
    byExpert.set(e, entry);
  }
  const flatWeights = weights.reshape(N * K); // [N·K]
  let out = zeros([N, C], { dtype: x.dtype, backend: x.storage.backend });
  for (const [e, { tokens, slots }] of [...byExpert].sort((a, b) => a[0] - b[0])) {
    const tok = tensor(tokens, { dtype: 'int32' });
    const xe = x.indexSelect(0, tok); // [n_e, C]
    // select(0, e) is a view of the expert's whole rows: the stored kernels read them in place.
    const h = swiglu(linear(xe, w.gate.select(0, e)), linear(xe, w.up.select(0, e))); // [n_e, I]
    const y = linear(h, w.down.select(0, e)); // [n_e, C]
    const we = flatWeights.indexSelect(0, tensor(slots, { dtype: 'int32' })).unsqueeze(1); // [n_e, 1]
    out = out.indexAdd(0, tok, y.mul(we));
  }
  return out;
}
