// Rotary position embedding on the GPU, HF's half-split layout, one thread per output element:
// out[:h] = x[:h]·cos − x[h:]·sin, out[h:] = x[h:]·cos + x[:h]·sin (h = HS/2); `inverse` negates sin.
// x is [B, NH, T, HS]; cos/sin are [T, HS] or, per batch, [B, T, HS].

import { divmod, kernel, launch, type KernelGroup } from './common.js';

const ROPE = kernel(
  'rope',
  `function (x, cos, sin, NH, T, HS, perBatch, sign) {
    const half = HS / 2;
    ${divmod('row', 'd', 'this.thread.x', 'HS')}
    ${divmod('bh', 't', 'row', 'T')}
    ${divmod('b', 'h', 'bh', 'NH')}
    const base = row * HS;
    const tab = (perBatch * b * T + t) * HS + d;
    if (d < half) {
      return x[base + d] * cos[tab] - sign * x[base + d + half] * sin[tab];
    }
    return x[base + d] * cos[tab] + sign * x[base + d - half] * sin[tab];
  }`,
);

export const ropeKernels: KernelGroup = (rt) => ({
  rope: ([x, cos, sin], { inverse }, out) => {
    const [, NH, T, HS] = x!.shape as [number, number, number, number];
    return launch(rt, ROPE, out, [x!.data, cos!.data, sin!.data, NH, T, HS, cos!.shape.length === 3 ? 1 : 0, inverse ? -1 : 1]);
  },
});
