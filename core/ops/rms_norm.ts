// RMSNorm (LlamaRMSNorm = Qwen3MoeRMSNorm): y = w ⊙ x/√(mean(x²) + eps) over the last axis — no mean
// subtraction, eps inside the square root, the weight applied after normalising. Fused: one pass per
// row, the row's 1/rms kept for the backward kernel. First-order only (its backward is not recorded).

import { apply, type KernelOp } from '../op.js';
import { fmt, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { lazyGrads, packedBackwardOp } from './fused_util.js';
import { floating } from './util.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** y = w·x/√(mean(x²) + eps) over the last axis; aux `rstd` [rows]. */
    rmsNorm: { eps: number };
    /** inputs x, w, rstd, dy → [dx (x.size) | dw (C)] packed in one buffer. */
    rmsNormBackward: NoAttrs;
  }
  interface KernelAux {
    rmsNorm: 'rstd';
  }
}

const RmsNormBackward = packedBackwardOp('rmsNormBackward', ['x', 'w', 'rstd', 'dy'], ({ x, w }) => [x, w]);

/** y = w ⊙ x·rstd, rstd = 1/√(mean(x²) + eps); dx and dw come from one backward kernel pass. */
export const RmsNorm: KernelOp<'x' | 'w', 'rmsNorm'> = {
  name: 'rmsNorm',
  inputs: ['x', 'w'],
  save: ['x', 'w', 'rstd'],
  // One 1/rms per row (a row of zero length has none).
  aux: { rstd: ({ x }, _a, out) => ({ shape: [x.at(-1) ? sizeOf(x) / x.at(-1)! : 0], dtype: out.dtype }) },
  shape: ({ x, w }) => {
    if (x.length < 1 || w.length !== 1 || w[0] !== x.at(-1))
      throw new Error(`rmsNorm: x is ${fmt(x)} and weight is ${fmt(w)}; expected weight [${x.at(-1)}]`);
    return x;
  },
  dtype: ({ x, w }) => {
    if (x !== w) throw new Error(`rmsNorm: dtype mismatch: x is ${x}, weight is ${w}`);
    return floating('rmsNorm')({ x });
  },
  backward: (dy, { x, w, rstd }, _attrs, shapes) => {
    const grads = lazyGrads(RmsNormBackward, { x, w, rstd, dy }, {}, [shapes.x, shapes.w]);
    return { x: () => grads()[0], w: () => grads()[1] };
  },
  reference: ({ x, w }, { eps }) => x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(w),
};

export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  if (!(eps >= 0)) throw new Error(`rmsNorm: eps must be non-negative, got ${eps}`);
  return apply(RmsNorm, { x, w: weight }, { eps });
}
