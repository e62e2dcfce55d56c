// Flash attention, forward, on the CPU (Dao et al. 2022, as llm.c and FlashAttention-2 do it): for a
// block of BR query rows, walk the keys in blocks of BC, keeping per row a running max m, a running
// sum l of exp(s − m) and an unnormalised output; when m grows, l and the output are rescaled by
// exp(m_old − m_new). Memory beyond the inputs is O(T·HS) — the T×T score matrix never exists —
// and only each row's logsumexp m + log l is kept for the backward pass. Float32 runs the block
// products in WebAssembly SIMD (wasm/attention.ts) unless the TypeScript kernels are selected.

import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { BC, BR, buffer, dimsOf, keyEnd, maskBlock, toF64, type AttnDims } from './attention_common.js';
import { accumulateRows, rowDots } from './attention_tiles.js';
import { allocArray } from '../../core/dtype.js';
import { allocShared, asShared } from './shared.js';
import { getNumThreads, parallelFor } from './threads/pool.js';
import { defineJob } from './threads/tasks.js';
import { wasmAttentionForward } from './wasm/attention.js';
import { useWasm } from './wasm/runtime.js';

export interface AttnForwardArgs extends AttnDims {
  /** q·scale, k, v as float64. */
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  out: TypedArray;
  lse: TypedArray;
  qBlocks: number;
}

/** One task: query rows [i0, i0 + BR) of head h in batch b. */
export function attentionForwardTask(a: AttnForwardArgs, task: number): void {
  const { NH, KVH, Tq, Tk, HS } = a;
  const qb = task % a.qBlocks;
  const bh = (task - qb) / a.qBlocks;
  const h = bh % NH;
  const b = (bh - h) / NH;
  const g = Math.floor(h / (NH / KVH)); // GQA: query head h reads kv head ⌊h / (NH/KVH)⌋
  const i0 = qb * BR;
  const rows = Math.min(BR, Tq - i0);
  const qBase = ((b * NH + h) * Tq + i0) * HS;
  const kvBase = (b * KVH + g) * Tk * HS;
  const S = buffer('S', BR * BC);
  const acc = buffer('acc', BR * HS).fill(0, 0, rows * HS);
  const m = buffer('m', BR).fill(-Infinity, 0, rows);
  const l = buffer('l', BR).fill(0, 0, rows);
  const end = keyEnd(a, i0, rows);
  for (let j0 = 0; j0 < end; j0 += BC) {
    const cols = Math.min(BC, end - j0);
    rowDots(a.q, qBase, a.k, kvBase + j0 * HS, rows, cols, HS, S, BC);
    maskBlock(a, S, b, h, i0, rows, j0, cols);
    for (let r = 0; r < rows; r++) {
      // Online softmax: the new running max, the rescale of what came before, this block's exps.
      let mNew = m[r];
      for (let c = 0; c < cols; c++) mNew = Math.max(mNew, S[r * BC + c]);
      if (mNew === -Infinity) {
        S.fill(0, r * BC, r * BC + cols); // every key so far is masked: nothing to add
        continue;
      }
      const alpha = Math.exp(m[r] - mNew);
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        const p = Math.exp(S[r * BC + c] - mNew);
        S[r * BC + c] = p;
        sum += p;
      }
      l[r] = l[r] * alpha + sum;
      m[r] = mNew;
      if (alpha !== 1) for (let d = 0; d < HS; d++) acc[r * HS + d] *= alpha;
    }
    accumulateRows(S, 0, BC, 1, a.v, kvBase + j0 * HS, rows, cols, HS, acc, 0);
  }
  for (let r = 0; r < rows; r++) {
    const o = qBase + r * HS;
    for (let d = 0; d < HS; d++) a.out[o + d] = acc[r * HS + d] / l[r];
    a.lse[(b * NH + h) * Tq + i0 + r] = m[r] + Math.log(l[r]);
  }
}

export const attentionForwardJob = defineJob(import.meta.url, 'attentionForwardTask', attentionForwardTask);

/** Work (B·NH·Tq·Tk·HS) from which blocks are spread across threads; exported so tests can force it. */
export const attentionTuning = { threadedMin: 1 << 20 };

export const attention: Kernel<TypedArray, KernelAttrs['attention']> = (inputs, { causal, scale, offset, hasMask }, spec) => {
  const [q, k, v] = inputs;
  const dims = dimsOf(q, k, hasMask ? inputs[3] : null, causal, offset);
  const { B, NH, Tq, Tk, HS } = dims;
  const qBlocks = Math.ceil(Tq / BR);
  const threaded = getNumThreads() > 1 && B * NH * qBlocks > 1 && B * NH * Tq * Tk * HS >= attentionTuning.threadedMin;
  if (useWasm() && spec.dtype === 'float32') {
    const shared = { ...dims, mask: dims.mask && threaded ? asShared(dims.mask) : dims.mask };
    const r = wasmAttentionForward(q.data, k.data, v.data, shared, scale, threaded);
    if (r !== null) {
      return {
        out: { data: r.out, shape: spec.shape, dtype: spec.dtype },
        aux: { lse: { data: r.lse, shape: [B, NH, Tq], dtype: spec.dtype } },
      };
    }
  }
  const n = B * NH * Tq * HS;
  const args: AttnForwardArgs = {
    ...dims,
    q: toF64(q.data, scale, threaded),
    k: toF64(k.data, 1, threaded),
    v: toF64(v.data, 1, threaded),
    out: threaded ? allocShared(spec.dtype, n) : allocArray(spec.dtype, n),
    lse: threaded ? allocShared(spec.dtype, B * NH * Tq) : allocArray(spec.dtype, B * NH * Tq),
    mask: dims.mask && threaded ? toF64(dims.mask, 1, true) : dims.mask,
    qBlocks,
  };
  const tasks = B * NH * qBlocks;
  if (threaded) parallelFor(attentionForwardJob, args, tasks);
  else for (let t = 0; t < tasks; t++) attentionForwardTask(args, t);
  return {
    out: { data: args.out, shape: spec.shape, dtype: spec.dtype },
    aux: { lse: { data: args.lse, shape: [B, NH, Tq], dtype: spec.dtype } },
  };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const attentionKernels = { attention } satisfies Partial<KernelTable<TypedArray>>;
