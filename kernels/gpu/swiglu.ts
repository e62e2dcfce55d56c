// SwiGLU on the GPU: silu(gate)·up, and its backward as one packed kernel [dgate | dup]. The MoE
// kernels (moe.ts, moe_backward.ts) run the same two kernels on their expert rows.

import { kernel, launch, type KernelGroup } from './common.js';

/** σ(g), written so neither branch overflows. */
const SIG = `const s = g >= 0 ? 1 / (1 + Math.exp(-g)) : Math.exp(g) / (1 + Math.exp(g));`;

export const SWIGLU = kernel(
  'swiglu',
  `function (gate, up) {
    const g = gate[this.thread.x];
    ${SIG}
    return g * s * up[this.thread.x];
  }`,
);

/** Thread t < n: dgate = dy·up·σ(g)(1 + g(1 − σ(g))); thread n + i: dup = dy·g·σ(g). */
export const SWIGLU_BACKWARD = kernel(
  'swigluBackward',
  `function (gate, up, dy, n) {
    const t = this.thread.x;
    const i = t < n ? t : t - n;
    const g = gate[i];
    ${SIG}
    if (t < n) { return dy[i] * up[i] * s * (1 + g * (1 - s)); }
    return dy[i] * g * s;
  }`,
);

export const swigluKernels: KernelGroup = (rt) => ({
  swiglu: ([gate, up], _a, out) => launch(rt, SWIGLU, out, [gate!.data, up!.data]),
  swigluBackward: ([gate, up, dy], _a, out) =>
    launch(rt, SWIGLU_BACKWARD, out, [gate!.data, up!.data, dy!.data, gate!.data.length]),
});
