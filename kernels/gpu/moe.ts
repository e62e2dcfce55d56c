// Mixture-of-experts SwiGLU on the GPU, laid out as the CPU kernel (kernels/cpu/moe.ts): the (token,
// slot) assignments sorted by expert, each expert's rows contiguous, then gate/up, SwiGLU and down on
// the device, and a gather-style combine. The one host step is the routing plan (plan below); every
// matmul, the SwiGLU, the gather of tokens and the weighted combine run on the device. Row arrays are
// sized for every assignment (N·K rows) because the number kept is only known once the plan exists.

import { planAssignments } from '../cpu/moe_plan.js';
import { divmod, kernel, launch, type GpuBuf, type GpuKernels, type KernelGroup } from './common.js';
import type { DeviceArray } from './device_array.js';
import type { Runtime } from './runtime.js';
import { SWIGLU } from './swiglu.js';

/**
 * The GPU plan, one float32 array: [E, A, offsets (E + 1), rowToken, rowSlot, rowExpert, tokenRow],
 * the last four N·K long. Sorted rows ≥ A (dropped over capacity) hold −1, as does tokenRow for a
 * dropped assignment. Kernels find the parts through `planLayout`.
 */
export interface PlanLayout {
  offsets: number;
  rowToken: number;
  rowSlot: number;
  rowExpert: number;
  tokenRow: number;
  length: number;
}

export function planLayout(E: number, NK: number): PlanLayout {
  const offsets = 2;
  const rowToken = offsets + E + 1;
  return {
    offsets,
    rowToken,
    rowSlot: rowToken + NK,
    rowExpert: rowToken + 2 * NK,
    tokenRow: rowToken + 3 * NK,
    length: rowToken + 4 * NK,
  };
}

/**
 * The plan of `indices` [N, K] on the host — the counting sort of kernels/cpu/moe_plan.ts, so both
 * backends drop the same assignments. Why the host: a counting sort needs a scan and scattered
 * writes, which gpu.js (no workgroup memory, no atomics) would turn into O((N·K)²) gather loops;
 * this is O(N·K + E) integer work on N·K small values. Bad indices throw here, as on the CPU.
 */
export function hostPlan(indices: Float32Array, N: number, K: number, E: number, capacity: number): Float32Array {
  const p = planAssignments(indices, N, K, E, capacity);
  const L = planLayout(E, N * K);
  const out = new Float32Array(L.length).fill(-1);
  out[0] = E;
  out[1] = p.A;
  out.set(p.offsets, L.offsets);
  for (let e = 0; e < E; e++) {
    for (let r = p.offsets[e]!; r < p.offsets[e + 1]!; r++) {
      const a = p.rowToken[r]! * K + p.rowSlot[r]!;
      out[L.rowToken + r] = p.rowToken[r]!;
      out[L.rowSlot + r] = p.rowSlot[r]!;
      out[L.rowExpert + r] = e;
      out[L.tokenRow + a] = r;
    }
  }
  return out;
}

/**
 * Data crosses to the host here, and only here: `indices` [N, K] go down and the plan comes back up.
 * In the synchronous modes this happens at once (an out-of-range expert throws now, as on the CPU);
 * in webgpu mode it is queued in program order, and an error surfaces when a result is read.
 */
export function uploadPlan(rt: Runtime, indices: DeviceArray, N: number, K: number, E: number, capacity: number): DeviceArray {
  const plan = rt.alloc(planLayout(E, N * K).length);
  try {
    rt.hostWork([plan], [indices], ([idx]) => [hostPlan(idx!, N, K, E, capacity)]);
  } catch (e) {
    rt.memory.dispose(plan);
    throw e;
  }
  return plan;
}

/**
 * Row r of the sorted assignments times its expert's [O, P] matrix, transposed: out[r, o] =
 * Σ_p a[src, p]·w[e, o, p], where e = rowExpert[r] and src = rowToken[r] when `gather` (x is read
 * by token, the dispatch gather fused into the matmul) or r itself. Rows ≥ A give 0.
 */
export const MOE_ROWS = kernel(
  'moeRows',
  `function (a, w, plan, gather, P, O, rowToken, rowExpert) {
    ${divmod('r', 'o', 'this.thread.x', 'O')}
    if (r >= plan[1]) { return 0; }
    const e = plan[rowExpert + r];
    let src = r;
    if (gather > 0) { src = plan[rowToken + r]; }
    const a0 = src * P;
    const w0 = (e * O + o) * P;
    let s = 0;
    for (let p = 0; p < P; p++) { s = s + a[a0 + p] * w[w0 + p]; }
    return s;
  }`,
);

/** y[n, d] = Σ_j weights[n, j]·Y[tokenRow[n, j], d] over the slots that were kept (gather-style: no atomics). */
const COMBINE = kernel(
  'moeCombine',
  `function (Y, weights, plan, K, H, tokenRow) {
    ${divmod('n', 'd', 'this.thread.x', 'H')}
    let s = 0;
    for (let j = 0; j < K; j++) {
      const row = plan[tokenRow + n * K + j];
      if (row >= 0) { s = s + weights[n * K + j] * Y[row * H + d]; }
    }
    return s;
  }`,
);

/** G = x_sorted·gate[e]ᵀ, U = x_sorted·up[e]ᵀ [NK, I], each row by its own expert. */
export function gateUp(
  rt: Runtime,
  x: DeviceArray,
  gate: DeviceArray,
  up: DeviceArray,
  plan: DeviceArray,
  NK: number,
  H: number,
  I: number,
  L: PlanLayout,
): { G: DeviceArray; U: DeviceArray } {
  const args = (w: DeviceArray) => [x, w, plan, 1, H, I, L.rowToken, L.rowExpert];
  return { G: rt.run(MOE_ROWS, NK * I, args(gate)), U: rt.run(MOE_ROWS, NK * I, args(up)) };
}

export const moeKernels: KernelGroup = (rt): GpuKernels => ({
  moe: (inputs, { capacity }, spec) => {
    const [x, weights, indices, gate, up, down] = inputs as [GpuBuf, GpuBuf, GpuBuf, GpuBuf, GpuBuf, GpuBuf];
    const [N, H] = x.shape as [number, number];
    const K = indices.shape[1]!;
    const [E, I] = gate.shape as [number, number];
    const NK = N * K;
    const L = planLayout(E, NK);
    const plan = uploadPlan(rt, indices.data, N, K, E, capacity);
    const { G, U } = gateUp(rt, x.data, gate.data, up.data, plan, NK, H, I, L);
    const hidden = rt.run(SWIGLU, NK * I, [G, U]);
    const Y = rt.run(MOE_ROWS, NK * H, [hidden, down.data, plan, 0, I, H, L.rowToken, L.rowExpert]);
    rt.memory.dispose(hidden);
    const y = launch(rt, COMBINE, spec, [Y, weights.data, plan, K, H, L.tokenRow]);
    const buf = (data: DeviceArray, shape: number[], dtype: GpuBuf['dtype']): GpuBuf => ({ data, shape, dtype });
    return {
      out: y,
      aux: {
        plan: buf(plan, [L.length], 'int32'),
        G: buf(G, [NK, I], spec.dtype),
        U: buf(U, [NK, I], spec.dtype),
        Y: buf(Y, [NK, H], spec.dtype),
      },
    };
  },
});
