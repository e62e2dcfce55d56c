// The mixture-of-experts SwiGLU as one fused op (dispatch → grouped expert matmuls → weighted combine,
// see kernels/cpu/moe.ts), and its `reference`: HF's per-expert loop (Qwen3MoeSparseMoeBlock), which
// selects each expert's tokens, runs the expert MLP on them and index-adds the weighted result.
// Expert weights are stacked: gate and up [E, I, H], down [E, H, I] (HF's per-expert tensors are views).

import { tensor } from '../creation.js';
import { apply, type AuxRule, type KernelOp } from '../op.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { lazyGrads, packedBackwardOp } from './fused_util.js';
import { floating } from './util.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /**
     * Mixture-of-experts SwiGLU over inputs x [N, H], weights [N, K], indices [N, K] (int32), stacked
     * expert weights gate and up [E, I, H] and down [E, H, I]: y[n] = Σ_j weights[n, j]·expert_{indices[n, j]}(x[n]).
     * At most `capacity` assignments per expert (−1: no limit). Aux: `plan` (int32), `G`, `U`, `Y`.
     */
    moe: { capacity: number };
    /** inputs x, weights, gate, up, down, plan, G, U, Y, dy → [dx | dweights | dgate | dup | ddown] packed. */
    moeBackward: NoAttrs;
  }
  interface KernelAux {
    moe: 'plan' | 'G' | 'U' | 'Y';
  }
}

type In = 'x' | 'weights' | 'indices' | 'gate' | 'up' | 'down';
type BackIn = 'x' | 'weights' | 'gate' | 'up' | 'down' | 'plan' | 'G' | 'U' | 'Y' | 'dy';

const MoeBackward = packedBackwardOp<BackIn, 'moeBackward'>(
  'moeBackward',
  ['x', 'weights', 'gate', 'up', 'down', 'plan', 'G', 'U', 'Y', 'dy'],
  ({ x, weights, gate, up, down }) => [x, weights, gate, up, down],
);

/** One expert's SwiGLU MLP, unfused: down(silu(x·gateᵀ)·(x·upᵀ)). */
function expertMlp(x: Tensor, gate: Tensor, up: Tensor, down: Tensor): Tensor {
  return x.matmul(gate.mT).silu().mul(x.matmul(up.mT)).matmul(down.mT);
}

/**
 * y[n] = Σ_j weights[n, j] · expert_{indices[n, j]}(x[n]). Gradients: x, the routing weights (so the
 * router learns through them), and every expert's gate/up/down; indices are not differentiable.
 */
/** The plan and the expert rows' activations are sized by the routing (and laid out by each backend), not by shapes. */
const bySize: AuxRule<In, { capacity: number }> = () => null;

export const MoeExperts: KernelOp<In, 'moe'> = {
  name: 'moe',
  inputs: ['x', 'weights', 'indices', 'gate', 'up', 'down'],
  save: ['x', 'weights', 'gate', 'up', 'down', 'plan', 'G', 'U', 'Y'],
  aux: { plan: bySize, G: bySize, U: bySize, Y: bySize },
  shape: ({ x, weights, indices, gate, up, down }) => {
    const [N, H] = x;
    const [E, I] = gate;
    const ok =
      x.length === 2 &&
      weights.length === 2 &&
      weights[0] === N &&
      fmt(indices) === fmt(weights) &&
      fmt(gate) === fmt([E, I, H]) &&
      fmt(up) === fmt(gate) &&
      fmt(down) === fmt([E, H, I]);
    if (!ok) {
      throw new Error(
        `moe: expected x [N, H], weights and indices [N, K], gate and up [E, I, H], down [E, H, I]; got x ${fmt(x)}, weights ${fmt(weights)}, indices ${fmt(indices)}, gate ${fmt(gate)}, up ${fmt(up)}, down ${fmt(down)}`,
      );
    }
    return x;
  },
  dtype: (d) => {
    if (d.indices !== 'int32') throw new Error(`moe: indices must be int32, got ${d.indices}`);
    for (const n of ['weights', 'gate', 'up', 'down'] as const)
      if (d[n] !== d.x) throw new Error(`moe: dtype mismatch: x is ${d.x}, ${n} is ${d[n]}`);
    return floating('moe')({ x: d.x });
  },
  backward: (dy, s, _attrs, shapes) => {
    const ins = { x: s.x, weights: s.weights, gate: s.gate, up: s.up, down: s.down, plan: s.plan, G: s.G, U: s.U, Y: s.Y, dy };
    const grads = lazyGrads(MoeBackward, ins, {}, [shapes.x, shapes.weights, shapes.gate, shapes.up, shapes.down]);
    return {
      x: () => grads()[0],
      weights: () => grads()[1],
      gate: () => grads()[2],
      up: () => grads()[3],
      down: () => grads()[4],
    };
  },
  reference: ({ x, weights, indices, gate, up, down }, { capacity }) => {
    const [N, K] = indices.shape;
    const idx = indices.dataSync();
    let y = x.mul(0);
    for (let e = 0; e < gate.shape[0]; e++) {
      // The expert's assignments in token order; beyond the capacity they are dropped.
      let picks: number[] = [];
      for (let a = 0; a < N * K; a++) if (idx[a] === e) picks.push(a);
      if (capacity >= 0) picks = picks.slice(0, capacity);
      if (picks.length === 0) continue;
      const tokens = tensor(
        picks.map((a) => Math.floor(a / K)),
        { dtype: 'int32' },
      );
      const w = weights
        .reshape(-1)
        .indexSelect(0, tensor(picks, { dtype: 'int32' }))
        .unsqueeze(1);
      const out = expertMlp(x.indexSelect(0, tokens), gate.select(0, e), up.select(0, e), down.select(0, e));
      y = y.indexAdd(0, tokens, out.mul(w));
    }
    return y;
  },
};

export interface MoeOptions {
  /** Most assignments an expert takes; the rest are dropped (their tokens keep only the residual). Default: no limit. */
  capacity?: number;
}

/** Σ_j weights[n, j]·expert_{indices[n, j]}(x[n]) for x [N, H] with stacked experts. */
export function moeExperts(
  x: Tensor,
  weights: Tensor,
  indices: Tensor,
  experts: { gate: Tensor; up: Tensor; down: Tensor },
  opts: MoeOptions = {},
): Tensor {
  const capacity = opts.capacity ?? -1;
  if (!Number.isInteger(capacity) || capacity < -1)
    throw new Error(`moe: capacity must be a non-negative integer, got ${opts.capacity}`);
  return apply(MoeExperts, { x, weights, indices, ...experts }, { capacity });
}
