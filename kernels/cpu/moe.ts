// Mixture-of-experts SwiGLU on the CPU, the way grouped-GEMM MoE kernels (Megatron) do it: sort the
// token→expert assignments by expert, gather each expert's rows into one contiguous block, run the
// expert's gate/up/down projections as three blocked GEMMs over exactly its rows (no padding to a
// capacity), then scatter-add the outputs back, each scaled by its routing weight. The row work between
// the GEMMs (gather, SwiGLU, combine) runs on every thread too (moe_rows.ts).

import type { TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { gemmGroup } from './gemm_group.js';
import { encodePlan, planAssignments } from './moe_plan.js';
import { combineRows, gatherRows, swigluAll } from './moe_rows.js';
import { allocFor } from './shared.js';

type CpuBuf = Buf<TypedArray>;

/** Rows [o, o + c) of a row-major [rows, width] array, as a buffer. */
export function rows(data: TypedArray, o: number, c: number, width: number, dtype: CpuBuf['dtype']): CpuBuf {
  return { data: data.subarray(o * width, (o + c) * width), shape: [c, width], dtype };
}

/** Expert e's [R, C] matrix from a stacked [E, R, C] weight. */
export function expert(w: CpuBuf, e: number): CpuBuf {
  const [, R, C] = w.shape;
  return { data: w.data.subarray(e * R * C, (e + 1) * R * C), shape: [R, C], dtype: w.dtype };
}

export const moe: Kernel<TypedArray, KernelAttrs['moe']> = (inputs, { capacity }, spec) => {
  const [x, weights, indices, gateW, upW, downW] = inputs;
  const [N, H] = x.shape;
  const K = indices.shape[1];
  const [E, I] = gateW.shape;
  const dt = spec.dtype;
  const plan = planAssignments(indices.data, N, K, E, capacity);
  const xs = gatherRows(x, plan, H);
  const G = allocFor(dt, plan.A * I);
  const U = allocFor(dt, plan.A * I);
  const Y = allocFor(dt, plan.A * H);
  // The experts' products, grouped: all gate and up projections in one parallel job, the SwiGLU over
  // every row, then all down projections in another.
  const live = Array.from({ length: E }, (_, e) => e).filter((e) => plan.offsets[e + 1] > plan.offsets[e]);
  const seg = (e: number) => [plan.offsets[e], plan.offsets[e + 1] - plan.offsets[e]] as const;
  gemmGroup(
    ['gate', 'up'].flatMap((which) =>
      live.map((e) => {
        const [o, c] = seg(e);
        const [w, into] = which === 'gate' ? [gateW, G] : [upW, U];
        return {
          a: rows(xs, o, c, H, dt),
          b: expert(w, e),
          out: { shape: [c, I], dtype: dt },
          into: into.subarray(o * I, (o + c) * I),
        };
      }),
    ),
  );
  const hidden = allocFor(dt, plan.A * I);
  swigluAll(G, U, hidden, plan.A * I);
  gemmGroup(
    live.map((e) => {
      const [o, c] = seg(e);
      return {
        a: rows(hidden, o, c, I, dt),
        b: expert(downW, e),
        out: { shape: [c, H], dtype: dt },
        into: Y.subarray(o * H, (o + c) * H),
      };
    }),
  );
  // Combine: y[token] += weight · expert output, in expert order (as HF's index_add_ loop).
  const y = allocFor(dt, N * H);
  combineRows(Y, weights.data, plan, N, H, K, y);
  const planData = encodePlan(plan);
  return {
    out: { data: y, shape: spec.shape, dtype: dt },
    aux: {
      plan: { data: planData, shape: [planData.length], dtype: 'int32' },
      G: { data: G, shape: [plan.A, I], dtype: dt },
      U: { data: U, shape: [plan.A, I], dtype: dt },
      Y: { data: Y, shape: [plan.A, H], dtype: dt },
    },
  };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const moeKernels = { moe } satisfies Partial<KernelTable<TypedArray>>;
