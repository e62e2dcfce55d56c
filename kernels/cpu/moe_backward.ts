// The MoE backward on the CPU, expert by expert over the same sorted segments as the forward: the
// weighted output gradient goes back through down, the SwiGLU and gate/up (five GEMMs per expert),
// each routing weight gets ⟨dy[token], expert output⟩, and token gradients are scattered back.
// An expert that received no token gets exactly zero gradient.

import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs } from '../../core/kernel_types.js';
import { sigmoid } from './math.js';
import { gemm, NO_EPILOGUE } from './matmul.js';
import { expert, rows } from './moe.js';
import { gatherRows, swigluAll } from './moe_rows.js';
import { decodePlan } from './moe_plan.js';
import { allocFor } from './shared.js';

export const moeBackward: Kernel<TypedArray, KernelAttrs['moeBackward']> = (inputs, _attrs, spec) => {
  const [x, weights, gateW, upW, downW, planBuf, Gb, Ub, Yb, dyb] = inputs;
  const [N, H] = x.shape;
  const K = weights.shape[1];
  const [E, I] = gateW.shape;
  const dt = spec.dtype;
  const plan = decodePlan(planBuf.data);
  const [G, U, Y, dy] = [Gb.data, Ub.data, Yb.data, dyb.data];
  // [dx | dweights | dgate | dup | ddown], zero-filled: untouched experts keep zero gradients.
  const packed = allocFor(dt, N * H + N * K + 3 * E * I * H);
  const dx = packed.subarray(0, N * H);
  const dw = packed.subarray(N * H, N * H + N * K);
  const dGate = packed.subarray(N * H + N * K, N * H + N * K + E * I * H);
  const dUp = packed.subarray(N * H + N * K + E * I * H, N * H + N * K + 2 * E * I * H);
  const dDown = packed.subarray(N * H + N * K + 2 * E * I * H);
  const xs = gatherRows(x, plan, H);
  let scratch = allocFor(dt, 0);
  for (let e = 0; e < E; e++) {
    const [o, c] = [plan.offsets[e], plan.offsets[e + 1] - plan.offsets[e]];
    if (c === 0) continue;
    const need = c * (2 * H + 4 * I);
    if (scratch.length < need) scratch = allocFor(dt, need);
    scratch.fill(0, 0, need); // the GEMMs below accumulate into zeroed outputs
    const dYw = scratch.subarray(0, c * H);
    const hidden = scratch.subarray(c * H, c * (H + I));
    const dHidden = scratch.subarray(c * (H + I), c * (H + 2 * I));
    const dG = scratch.subarray(c * (H + 2 * I), c * (H + 3 * I));
    const dU = scratch.subarray(c * (H + 3 * I), c * (H + 4 * I));
    const dXs = scratch.subarray(c * (H + 4 * I), c * (2 * H + 4 * I));
    // dY·w per row, and the routing weight's gradient ⟨dy, Y⟩.
    for (let r = 0; r < c; r++) {
      const row = o + r;
      const t = plan.rowToken[row];
      const w = weights.data[t * K + plan.rowSlot[row]];
      let dot = 0;
      for (let d = 0; d < H; d++) {
        dYw[r * H + d] = w * dy[t * H + d];
        dot += dy[t * H + d] * Y[row * H + d];
      }
      dw[t * K + plan.rowSlot[row]] = dot;
    }
    swigluAll(G.subarray(o * I), U.subarray(o * I), hidden, c * I);
    const buf = (a: TypedArray, w: number) => rows(a, 0, c, w, dt);
    // down: dDown[e] = dYwᵀ·hidden, dHidden = dYw·down[e]
    gemm(buf(dYw, H), buf(hidden, I), true, false, { shape: [H, I], dtype: dt }, NO_EPILOGUE, dDown.subarray(e * H * I, (e + 1) * H * I));
    gemm(buf(dYw, H), expert(downW, e), false, false, { shape: [c, I], dtype: dt }, NO_EPILOGUE, dHidden);
    // SwiGLU: dg = dh·u·silu′(g), du = dh·silu(g)
    for (let i = 0; i < c * I; i++) {
      const g = G[o * I + i];
      const s = sigmoid(g);
      dG[i] = dHidden[i] * U[o * I + i] * s * (1 + g * (1 - s));
      dU[i] = dHidden[i] * g * s;
    }
    // gate, up: dW = dᵀ·x_e; dx_e = dG·gate[e] + dU·up[e]
    const xe = rows(xs, o, c, H, dt);
    gemm(buf(dG, I), xe, true, false, { shape: [I, H], dtype: dt }, NO_EPILOGUE, dGate.subarray(e * I * H, (e + 1) * I * H));
    gemm(buf(dU, I), xe, true, false, { shape: [I, H], dtype: dt }, NO_EPILOGUE, dUp.subarray(e * I * H, (e + 1) * I * H));
    const viaGate = gemm(buf(dG, I), expert(gateW, e), false, false, { shape: [c, H], dtype: dt }, NO_EPILOGUE).c;
    gemm(buf(dU, I), expert(upW, e), false, false, { shape: [c, H], dtype: dt }, { ...NO_EPILOGUE, residual: { data: viaGate, shape: [c, H], dtype: dt } }, dXs);
    for (let r = 0; r < c; r++) {
      const t = plan.rowToken[o + r];
      for (let d = 0; d < H; d++) dx[t * H + d] += dXs[r * H + d];
    }
  }
  return { data: packed, shape: spec.shape, dtype: dt };
};
