// The MoE backward on the CPU, over the same sorted segments as the forward: the weighted output
// gradient goes back through down, the SwiGLU and gate/up (five GEMMs per expert), each routing weight
// gets ⟨dy[token], expert output⟩, and token gradients are scattered back. The row work runs over all
// rows at once on every thread (moe_rows.ts), so its scratch holds every row: A·(2H + 4I) values.
// An expert that received no token gets exactly zero gradient.

import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { gemm, NO_EPILOGUE } from './matmul.js';
import { expert, rows } from './moe.js';
import { gatherRows, rowGrads, scatterRows, swigluAll, swigluGradAll } from './moe_rows.js';
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
  // Row work over every row at once, on every thread (moe_rows.ts); the GEMMs per expert in between.
  // Scratch for all A rows: [dYw | hidden | dHidden | dG | dU | dXs], zero-filled (GEMMs accumulate).
  const A = plan.A;
  const scratch = allocFor(dt, A * (2 * H + 4 * I));
  const dYw = scratch.subarray(0, A * H);
  const hidden = scratch.subarray(A * H, A * (H + I));
  const dHidden = scratch.subarray(A * (H + I), A * (H + 2 * I));
  const dG = scratch.subarray(A * (H + 2 * I), A * (H + 3 * I));
  const dU = scratch.subarray(A * (H + 3 * I), A * (H + 4 * I));
  const dXs = scratch.subarray(A * (H + 4 * I));
  // dY·w per row, and the routing weight's gradient ⟨dy, Y⟩; the forward's hidden = silu(G)·U again.
  rowGrads(dy, Y, weights.data, plan, H, K, dYw, dw);
  swigluAll(G, U, hidden, A * I);
  const live = Array.from({ length: E }, (_, e) => e).filter((e) => plan.offsets[e + 1] > plan.offsets[e]);
  const seg = (e: number) => [plan.offsets[e], plan.offsets[e + 1] - plan.offsets[e]] as const;
  // down: dDown[e] = dYwᵀ·hidden, dHidden = dYw·down[e]
  for (const e of live) {
    const [o, c] = seg(e);
    const dYwE = rows(dYw, o, c, H, dt);
    gemm(
      dYwE,
      rows(hidden, o, c, I, dt),
      true,
      false,
      { shape: [H, I], dtype: dt },
      NO_EPILOGUE,
      dDown.subarray(e * H * I, (e + 1) * H * I),
    );
    gemm(dYwE, expert(downW, e), false, false, { shape: [c, I], dtype: dt }, NO_EPILOGUE, dHidden.subarray(o * I, (o + c) * I));
  }
  // SwiGLU: dg = dh·u·silu′(g), du = dh·silu(g)
  swigluGradAll(G, U, dHidden, dG, dU, A * I);
  // gate, up: dW = dᵀ·x_e; dx_e = dG·gate[e] + dU·up[e]
  for (const e of live) {
    const [o, c] = seg(e);
    const [dGe, dUe, xe] = [rows(dG, o, c, I, dt), rows(dU, o, c, I, dt), rows(xs, o, c, H, dt)];
    gemm(dGe, xe, true, false, { shape: [I, H], dtype: dt }, NO_EPILOGUE, dGate.subarray(e * I * H, (e + 1) * I * H));
    gemm(dUe, xe, true, false, { shape: [I, H], dtype: dt }, NO_EPILOGUE, dUp.subarray(e * I * H, (e + 1) * I * H));
    const viaGate = gemm(dGe, expert(gateW, e), false, false, { shape: [c, H], dtype: dt }, NO_EPILOGUE).c;
    gemm(
      dUe,
      expert(upW, e),
      false,
      false,
      { shape: [c, H], dtype: dt },
      { ...NO_EPILOGUE, residual: { data: viaGate, shape: [c, H], dtype: dt } },
      dXs.subarray(o * H, (o + c) * H),
    );
  }
  // Each token's dx: its rows' dXs summed in row (= expert) order.
  scatterRows(dXs, plan, N, H, dx);
  return { data: packed, shape: spec.shape, dtype: dt };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const moeBackwardKernels = { moeBackward } satisfies Partial<KernelTable<TypedArray>>;
