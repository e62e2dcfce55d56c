// The MoE backward on the GPU, over the forward's sorted rows and plan (moe.ts), all on the device: the
// SwiGLU output is recomputed from the saved G and U, the weighted output gradient goes back through
// down and the SwiGLU, and two kernels write [dx | dweights] and [dgate | dup | ddown], joined as the
// CPU kernel packs them (two, not one: WebGPU allows 8 storage buffers per kernel, output included).
// Sums over an expert's rows loop over its segment; sums over a token's slots loop over its K rows
// (gather-style, no atomics). An expert that received no token gets exactly zero.

import { divmod, kernel, type GpuBuf, type KernelGroup } from './common.js';
import { CAT2 } from './indexing.js';
import { planLayout } from './moe.js';
import { SWIGLU, SWIGLU_BACKWARD } from './swiglu.js';

/** dHidden[r, i] = w_r·Σ_d dy[token_r, d]·down[e_r, d, i] (w_r the row's routing weight); rows ≥ A give 0. */
const DHIDDEN = kernel(
  'moeDHidden',
  `function (dy, weights, down, plan, K, H, I, rowToken, rowSlot, rowExpert) {
    ${divmod('r', 'i', 'this.thread.x', 'I')}
    if (r >= plan[1]) { return 0; }
    const tok = plan[rowToken + r];
    const e = plan[rowExpert + r];
    const w = weights[tok * K + plan[rowSlot + r]];
    let s = 0;
    for (let d = 0; d < H; d++) { s = s + dy[tok * H + d] * down[(e * H + d) * I + i]; }
    return w * s;
  }`,
);

/**
 * [dx | dweights] (dGU is the SwiGLU backward [dG | dU] of the sorted rows, each N·K·I long):
 *   dx[n, h]       = Σ_{kept slots j} Σ_i dG[row, i]·gate[e, i, h] + dU[row, i]·up[e, i, h]
 *   dweights[n, j] = ⟨dy[n], Y[row]⟩ (0 for a dropped slot)
 */
const TOKEN_GRADS = kernel(
  'moeTokenGrads',
  `function (dGU, gate, up, plan, dy, Y, N, H, K, I, NK, rowExpert, tokenRow) {
    const t = this.thread.x;
    if (t < N * H) {
      ${divmod('n', 'h', 't', 'H')}
      let sx = 0;
      for (let j = 0; j < K; j++) {
        const row = plan[tokenRow + n * K + j];
        if (row >= 0) {
          const ex = plan[rowExpert + row];
          for (let i = 0; i < I; i++) {
            const w0 = (ex * I + i) * H + h;
            sx = sx + dGU[row * I + i] * gate[w0] + dGU[NK * I + row * I + i] * up[w0];
          }
        }
      }
      return sx;
    }
    const a = t - N * H;
    const arow = plan[tokenRow + a];
    if (arow < 0) { return 0; }
    ${divmod('an', 'aj', 'a', 'K')}
    let sw = 0;
    for (let d = 0; d < H; d++) { sw = sw + dy[an * H + d] * Y[arow * H + d]; }
    return sw;
  }`,
);

/**
 * [dgate | dup | ddown], each a sum over the expert's segment of sorted rows (none: exactly 0):
 *   dgate[e, i, h] = Σ_r dG[r, i]·x[token_r, h]   (dup: the same with dU)
 *   ddown[e, h, i] = Σ_r w_r·dy[token_r, h]·hidden[r, i]
 */
const EXPERT_GRADS = kernel(
  'moeExpertGrads',
  `function (dGU, x, plan, weights, dy, hidden, H, K, E, I, NK, offsets, rowToken, rowSlot) {
    const t = this.thread.x;
    const nE = E * I * H;
    if (t < 2 * nE) {
      let u = t;
      let part = 0;
      if (u >= nE) { u = u - nE; part = NK * I; }
      ${divmod('ei', 'gh', 'u', 'H')}
      ${divmod('ge', 'gi', 'ei', 'I')}
      const g0 = plan[offsets + ge];
      const gn = plan[offsets + ge + 1] - g0;
      let sg = 0;
      for (let q = 0; q < gn; q++) {
        const gr = g0 + q;
        sg = sg + dGU[part + gr * I + gi] * x[plan[rowToken + gr] * H + gh];
      }
      return sg;
    }
    const v = t - 2 * nE;
    ${divmod('ed', 'di', 'v', 'I')}
    ${divmod('de', 'dd', 'ed', 'H')}
    const d0 = plan[offsets + de];
    const dn = plan[offsets + de + 1] - d0;
    let sd = 0;
    for (let q2 = 0; q2 < dn; q2++) {
      const dr = d0 + q2;
      const dt = plan[rowToken + dr];
      sd = sd + weights[dt * K + plan[rowSlot + dr]] * dy[dt * H + dd] * hidden[dr * I + di];
    }
    return sd;
  }`,
);

export const moeBackwardKernels: KernelGroup = (rt) => ({
  moeBackward: (inputs, _attrs, spec) => {
    const [x, weights, gate, up, down, plan, G, U, Y, dy] = inputs as [
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
      GpuBuf,
    ];
    const [N, H] = x.shape as [number, number];
    const K = weights.shape[1]!;
    const [E, I] = gate.shape as [number, number];
    const NK = N * K;
    const L = planLayout(E, NK);
    const hidden = rt.run(SWIGLU, NK * I, [G.data, U.data]);
    const dHidden = rt.run(DHIDDEN, NK * I, [
      dy.data,
      weights.data,
      down.data,
      plan.data,
      K,
      H,
      I,
      L.rowToken,
      L.rowSlot,
      L.rowExpert,
    ]);
    const dGU = rt.run(SWIGLU_BACKWARD, 2 * NK * I, [G.data, U.data, dHidden, NK * I]);
    rt.memory.dispose(dHidden);
    const nTok = N * H + N * K;
    const nExp = 3 * E * I * H;
    const tokens = rt.run(TOKEN_GRADS, nTok, [
      dGU,
      gate.data,
      up.data,
      plan.data,
      dy.data,
      Y.data,
      N,
      H,
      K,
      I,
      NK,
      L.rowExpert,
      L.tokenRow,
    ]);
    const experts = rt.run(EXPERT_GRADS, nExp, [
      dGU,
      x.data,
      plan.data,
      weights.data,
      dy.data,
      hidden,
      H,
      K,
      E,
      I,
      NK,
      L.offsets,
      L.rowToken,
      L.rowSlot,
    ]);
    const packed = rt.run(CAT2, nTok + nExp, [tokens, experts, nTok, nExp]);
    for (const a of [dGU, hidden, tokens, experts]) rt.memory.dispose(a);
    return { data: packed, shape: spec.shape, dtype: spec.dtype };
  },
});
