// Flash attention, backward, on the CPU. Probabilities are recomputed from the saved row logsumexp
// (p = exp(s − lse)), never stored. Two passes keep every write private to one task, so no atomics and
// no per-thread copies are needed: pass 1 walks key blocks and accumulates dV = Pᵀ·dO and
// dK = dSᵀ·Q; pass 2 walks query blocks and accumulates dQ = dS·K, where dS = P ⊙ (dP − D),
// dP = dO·Vᵀ and D_i = Σ_d dO_i·O_i. (FlashAttention-2 does it in one pass with atomic dQ updates;
// the second pass costs recomputing S and dP once more.) Float32 runs the same passes in WebAssembly
// SIMD (wasm/attention_backward.ts) unless the TypeScript kernels are selected.

import { allocArray, type TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { BC, BR, buffer, dimsOf, keyEnd, maskBlock, toF64, type AttnDims } from './attention_common.js';
import { attentionTuning } from './attention.js';
import { accumulateRows, rowDots } from './attention_tiles.js';
import { allocShared, asShared } from './shared.js';
import { getNumThreads, parallelFor } from './threads/pool.js';
import { defineJob } from './threads/tasks.js';
import { wasmAttentionBackward } from './wasm/attention_backward.js';
import { useWasm } from './wasm/runtime.js';

export interface AttnBackwardArgs extends AttnDims {
  /** q·scale, k, v, dout as float64; lse as given; D = rowsum(dout ⊙ out). */
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  dout: Float64Array;
  lse: TypedArray;
  D: Float64Array;
  scale: number;
  /** Output [dq | dk | dv], and where dk starts. */
  grads: TypedArray;
  dkOffset: number;
  qBlocks: number;
  kBlocks: number;
}

/** P = exp(S − lse) and dS = P ⊙ (dO·Vᵀ − D) for rows i0.. of head h against keys j0..; leaves P in S and dS in dS. */
function probsAndGrads(
  a: AttnBackwardArgs,
  b: number,
  h: number,
  g: number,
  i0: number,
  rows: number,
  j0: number,
  cols: number,
  S: Float64Array,
  dS: Float64Array,
): void {
  const { NH, KVH, Tq, Tk, HS } = a;
  const qBase = ((b * NH + h) * Tq + i0) * HS;
  const kvBase = ((b * KVH + g) * Tk + j0) * HS;
  rowDots(a.q, qBase, a.k, kvBase, rows, cols, HS, S, BC);
  maskBlock(a, S, b, h, i0, rows, j0, cols);
  rowDots(a.dout, qBase, a.v, kvBase, rows, cols, HS, dS, BC);
  for (let r = 0; r < rows; r++) {
    const row = (b * NH + h) * Tq + i0 + r;
    const lse = a.lse[row];
    const D = a.D[row];
    for (let c = 0; c < cols; c++) {
      const p = Math.exp(S[r * BC + c] - lse);
      S[r * BC + c] = p;
      dS[r * BC + c] = p * (dS[r * BC + c] - D);
    }
  }
}

/** Pass 1, one task per (batch, kv head, key block): dV and dK of those keys, over every query of the group. */
export function attentionDkDvTask(a: AttnBackwardArgs, task: number): void {
  const { NH, KVH, Tq, Tk, HS } = a;
  const kb = task % a.kBlocks;
  const bg = (task - kb) / a.kBlocks;
  const g = bg % KVH;
  const b = (bg - g) / KVH;
  const j0 = kb * BC;
  const cols = Math.min(BC, Tk - j0);
  const S = buffer('S', BR * BC);
  const dS = buffer('dS', BR * BC);
  const dK = buffer('dK', BC * HS).fill(0, 0, cols * HS);
  const dV = buffer('dV', BC * HS).fill(0, 0, cols * HS);
  const rep = NH / KVH;
  // Under causality, queries before position j0 − offset see none of these keys.
  const first = a.causal ? Math.max(0, j0 - a.offset) : 0;
  for (let h = g * rep; h < (g + 1) * rep; h++) {
    for (let i0 = first; i0 < Tq; i0 += BR) {
      const rows = Math.min(BR, Tq - i0);
      probsAndGrads(a, b, h, g, i0, rows, j0, cols, S, dS);
      const qBase = ((b * NH + h) * Tq + i0) * HS;
      accumulateRows(S, 0, 1, BC, a.dout, qBase, cols, rows, HS, dV, 0); // dV += Pᵀ·dO
      accumulateRows(dS, 0, 1, BC, a.q, qBase, cols, rows, HS, dK, 0); // dK += dSᵀ·(scale·Q)
    }
  }
  const at = ((b * KVH + g) * Tk + j0) * HS;
  const dvOffset = a.dkOffset + a.B * KVH * Tk * HS;
  for (let i = 0; i < cols * HS; i++) {
    a.grads[a.dkOffset + at + i] = dK[i];
    a.grads[dvOffset + at + i] = dV[i];
  }
}

export const attentionDkDvJob = defineJob(import.meta.url, 'attentionDkDvTask', attentionDkDvTask);

/** Pass 2, one task per (batch, head, query block): dQ = scale · Σ_keys dS·K. */
export function attentionDqTask(a: AttnBackwardArgs, task: number): void {
  const { NH, KVH, Tq, Tk, HS } = a;
  const qb = task % a.qBlocks;
  const bh = (task - qb) / a.qBlocks;
  const h = bh % NH;
  const b = (bh - h) / NH;
  const g = Math.floor(h / (NH / KVH));
  const i0 = qb * BR;
  const rows = Math.min(BR, Tq - i0);
  const S = buffer('S', BR * BC);
  const dS = buffer('dS', BR * BC);
  const dQ = buffer('dQ', BR * HS).fill(0, 0, rows * HS);
  const end = keyEnd(a, i0, rows);
  for (let j0 = 0; j0 < end; j0 += BC) {
    const cols = Math.min(BC, end - j0);
    probsAndGrads(a, b, h, g, i0, rows, j0, cols, S, dS);
    accumulateRows(dS, 0, BC, 1, a.k, ((b * KVH + g) * Tk + j0) * HS, rows, cols, HS, dQ, 0);
  }
  const at = ((b * NH + h) * Tq + i0) * HS;
  for (let i = 0; i < rows * HS; i++) a.grads[at + i] = dQ[i] * a.scale;
}

export const attentionDqJob = defineJob(import.meta.url, 'attentionDqTask', attentionDqTask);

export const attentionBackward: Kernel<TypedArray, KernelAttrs['attentionBackward']> = (
  inputs,
  { causal, scale, offset, hasMask },
  spec,
) => {
  const [q, k, v, out, lse, dout] = inputs;
  const dims = dimsOf(q, k, hasMask ? inputs[6] : null, causal, offset);
  const { B, NH, KVH, Tq, Tk, HS } = dims;
  const threaded = getNumThreads() > 1 && B * NH * Tq * Tk * HS >= attentionTuning.threadedMin;
  // D_i = Σ_d dO_i·O_i, the row term of the softmax backward.
  const D = threaded ? allocShared('float64', B * NH * Tq) : new Float64Array(B * NH * Tq);
  for (let row = 0; row < B * NH * Tq; row++) {
    let s = 0;
    for (let d = 0; d < HS; d++) s += dout.data[row * HS + d] * out.data[row * HS + d];
    D[row] = s;
  }
  const total = B * NH * Tq * HS + 2 * B * KVH * Tk * HS;
  const grads = threaded ? allocShared(spec.dtype, total) : allocArray(spec.dtype, total);
  if (useWasm() && spec.dtype === 'float32') {
    const shared = { ...dims, mask: dims.mask && threaded ? asShared(dims.mask) : dims.mask };
    const lseIn = threaded ? asShared(lse.data) : lse.data;
    const job = { ...shared, scale, lse: lseIn, D, grads, dkOffset: B * NH * Tq * HS };
    if (wasmAttentionBackward(q.data, k.data, v.data, dout.data, job, threaded))
      return { data: grads, shape: spec.shape, dtype: spec.dtype };
  }
  const args: AttnBackwardArgs = {
    ...dims,
    q: toF64(q.data, scale, threaded),
    k: toF64(k.data, 1, threaded),
    v: toF64(v.data, 1, threaded),
    dout: toF64(dout.data, 1, threaded),
    lse: threaded ? toF64(lse.data, 1, true) : lse.data,
    mask: dims.mask && threaded ? toF64(dims.mask, 1, true) : dims.mask,
    D,
    scale,
    grads,
    dkOffset: B * NH * Tq * HS,
    qBlocks: Math.ceil(Tq / BR),
    kBlocks: Math.ceil(Tk / BC),
  };
  const passes = [
    [attentionDkDvJob, B * KVH * args.kBlocks],
    [attentionDqJob, B * NH * args.qBlocks],
  ] as const;
  for (const [job, count] of passes) {
    if (threaded) parallelFor(job, args, count);
    else for (let t = 0; t < count; t++) job.run(args, t, 0);
  }
  return { data: args.grads, shape: spec.shape, dtype: spec.dtype };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const attentionBackwardKernels = { attentionBackward } satisfies Partial<KernelTable<TypedArray>>;
