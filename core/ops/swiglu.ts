// SwiGLU, the gated MLP activation of Llama and Qwen3: silu(gate)·up, fused into one pass (and its
// backward into one pass producing both gradients). First-order only.

import { apply, type KernelOp } from '../op.js';
import { fmt, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { lazyGrads, packedBackwardOp } from './fused_util.js';
import { floating } from './util.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** silu(gate)·up. */
    swiglu: NoAttrs;
    /** inputs gate, up, dy → [dgate | dup] packed. */
    swigluBackward: NoAttrs;
  }
}

type GU = 'gate' | 'up';

const SwigluBackward = packedBackwardOp('swigluBackward', ['gate', 'up', 'dy'], ({ gate, up }) => [gate, up]);

/** y = silu(g)·u; dg = dy·u·silu′(g), du = dy·silu(g). */
export const Swiglu: KernelOp<GU, 'swiglu'> = {
  name: 'swiglu',
  inputs: ['gate', 'up'],
  save: ['gate', 'up'],
  shape: ({ gate, up }) => {
    if (!shapesEqual(gate, up)) throw new Error(`swiglu: gate ${fmt(gate)} and up ${fmt(up)} must have the same shape`);
    return gate;
  },
  dtype: ({ gate, up }) => {
    if (gate !== up) throw new Error(`swiglu: dtype mismatch: gate is ${gate}, up is ${up}`);
    return floating('swiglu')({ x: gate });
  },
  backward: (dy, { gate, up }, _attrs, shapes) => {
    const grads = lazyGrads(SwigluBackward, { gate, up, dy }, {}, [shapes.gate, shapes.up]);
    return { gate: () => grads()[0], up: () => grads()[1] };
  },
  reference: ({ gate, up }) => gate.silu().mul(up),
};

export function swiglu(gate: Tensor, up: Tensor): Tensor {
  return apply(Swiglu, { gate, up }, {});
}
