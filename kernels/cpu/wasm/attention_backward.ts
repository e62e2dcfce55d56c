// Flash attention backward in WebAssembly SIMD (float32), the two passes of ../attention_backward.ts:
// pass 1 per key block accumulates dV = Pᵀ·dO and dK = dSᵀ·(scale·Q), pass 2 per query block
// dQ = scale·dS·K, recomputing P = exp(S − lse) and dS = P ⊙ (dO·Vᵀ − D) (softmax_kernel.ts) each
// time. Every product runs in gemm_kernel.ts over operands packed once per call; masks are added in
// TypeScript. Memory stays O(T·HS): a bounded chunk of kv groups is packed per job.

import type { TypedArray } from '../../../core/dtype.js';
import { BC, BR, keyEnd, maskBlock } from '../attention_common.js';
import { getNumThreads, parallelFor } from '../threads/pool.js';
import { defineJob } from '../threads/tasks.js';
import {
  decodeTask,
  F32_BYTES,
  forEachChunk,
  headDims,
  packColumnsAsB,
  packRowsAsA,
  packRowsAsB,
  plan,
  roundUp,
  stageFloats,
  type HeadDims,
  type WasmAttnJob,
} from './attention_layout.js';
import { MR, NR } from './gemm_kernel.js';
import { countWasmCall, wasmHandle, wasmThread, type WasmThread } from './runtime.js';

export interface WasmAttnBackwardArgs extends WasmAttnJob {
  kBlocks: number;
  scale: number;
  lse: TypedArray;
  /** D_i = Σ_d dO_i·O_i. */
  D: Float64Array;
  /** Output [dq | dk | dv], and where dk starts. */
  grads: TypedArray;
  dkOffset: number;
}

/**
 * One kv group's packed operands: K and V as right operands of products over HS (S = Q·Kᵀ,
 * dP = dO·Vᵀ), K as the right operand of dQ = dS·K; per query head, Q and dO as left operands over
 * HS and as right operands over T (dK = dSᵀ·Q, dV = Pᵀ·dO).
 */
function groupOffsets(hd: HeadDims) {
  const overHS = hd.Tk8 * hd.HS4;
  const kC = 2 * overHS;
  const head0 = kC + hd.HS8 * hd.Tk4;
  const a = hd.Tq4 * hd.HS4;
  const c = hd.HS8 * hd.Tq4;
  const headFloats = 2 * a + 2 * c;
  const head = (hr: number) => {
    const at = head0 + hr * headFloats;
    return { qA: at, dA: at + a, qC: at + 2 * a, dC: at + 2 * a + c };
  };
  return { kB: 0, vB: overHS, kC, head, floats: (rep: number) => head0 + rep * headFloats };
}

/** Per-thread scratch: S, dP, a packed copy of P or dS, two BC × HS8 accumulators, and lse and D per row. */
function scratch(hd: HeadDims) {
  const s = 0;
  const dp = BR * BC;
  const packed = 2 * BR * BC;
  const acc1 = 3 * BR * BC;
  const acc2 = acc1 + BC * hd.HS8;
  const lse = acc2 + BC * hd.HS8;
  const D = lse + BR;
  return { s, dp, packed, acc1, acc2, lse, D, floats: D + BR };
}

/** Where one task works: the job's args, this thread's kernels and scratch, its group's packed data. */
interface Ctx {
  a: WasmAttnBackwardArgs;
  t: WasmThread;
  at: ReturnType<typeof scratch>;
  go: ReturnType<typeof groupOffsets>;
  base: number;
}

function context(a: WasmAttnBackwardArgs, group: number, thread: number): Ctx {
  const at = scratch(a.hd);
  const t0 = thread * a.plan.threadFloats;
  for (const key of Object.keys(at) as (keyof typeof at)[]) if (key !== 'floats') at[key] += t0;
  return { a, t: wasmThread(a.wasm), at, go: groupOffsets(a.hd), base: a.plan.dataAt + (group - a.g0) * a.plan.groupFloats };
}

/** P (in S) and dS (in dP) for query rows i0.. of head (b, h) (head hr of its group) against keys j0..; returns rows rounded up to 4. */
function probsAndGrads(x: Ctx, b: number, h: number, hr: number, i0: number, rows: number, j0: number, cols: number): number {
  const { a, t, at, go, base } = x;
  const { hd } = a;
  const B = F32_BYTES;
  const f32 = t.f32;
  const rowTiles = Math.ceil(rows / MR);
  const cols4 = roundUp(cols, 4);
  const head = go.head(hr);
  t.gemmBlock(
    (base + head.qA + i0 * hd.HS4) * B,
    hd.HS4 * MR * B,
    rowTiles,
    (base + go.kB + j0 * hd.HS4) * B,
    hd.HS4 * NR * B,
    Math.ceil(cols / NR),
    at.s * B,
    BC * B,
    hd.HS4,
    0,
  );
  const S = f32.subarray(at.s, at.s + BR * BC);
  maskBlock(a, S, b, h, i0, rows, j0, cols);
  for (let r = 0; cols < cols4 && r < rowTiles * MR; r++) S.fill(-Infinity, r * BC + cols, r * BC + cols4);
  t.gemmBlock(
    (base + head.dA + i0 * hd.HS4) * B,
    hd.HS4 * MR * B,
    rowTiles,
    (base + go.vB + j0 * hd.HS4) * B,
    hd.HS4 * NR * B,
    Math.ceil(cols / NR),
    at.dp * B,
    BC * B,
    hd.HS4,
    0,
  );
  // Row statistics; padding rows get lse = +∞, so their P and dS are 0.
  const row0 = (b * a.NH + h) * a.Tq + i0;
  for (let r = 0; r < rowTiles * MR; r++) {
    f32[at.lse + r] = r < rows ? a.lse[row0 + r]! : Infinity;
    f32[at.D + r] = r < rows ? a.D[row0 + r]! : 0;
  }
  t.probsGrads(at.s * B, at.dp * B, BC * B, rowTiles * MR, cols4 / 4, at.lse * B, at.D * B);
  return rowTiles * MR;
}

/** Pass 1, one task per (kv group, key block): dV and dK of those keys over every query of the group. */
export function wasmAttentionDkDvTask(a: WasmAttnBackwardArgs, task: number, thread: number): void {
  const { NH, KVH, Tq, Tk, HS, hd } = a;
  const { blk, group, b, g } = decodeTask(a, task, a.kBlocks, 1);
  const x = context(a, group, thread);
  const { t, at, go, base } = x;
  const B = F32_BYTES;
  const rep = NH / KVH;
  const j0 = blk * BC;
  const cols = Math.min(BC, Tk - j0);
  const colTiles = roundUp(cols, 4) / MR;
  t.f32.fill(0, at.acc1, at.acc2 + BC * hd.HS8);
  // Under causality, query blocks wholly before position j0 − offset see none of these keys.
  const first = a.causal ? Math.floor(Math.max(0, j0 - a.offset) / BR) * BR : 0;
  for (let hr = 0; hr < rep; hr++) {
    const h = g * rep + hr;
    const head = go.head(hr);
    for (let i0 = first; i0 < Tq; i0 += BR) {
      const rows4 = probsAndGrads(x, b, h, hr, i0, Math.min(BR, Tq - i0), j0, cols);
      // dV += Pᵀ·dO and dK += dSᵀ·(scale·Q): the transposed block as left operand, K depth = query rows.
      for (const [from, right, acc] of [
        [at.s, head.dC, at.acc2],
        [at.dp, head.qC, at.acc1],
      ] as const) {
        t.packWide4(from * B, BC * B, colTiles, rows4, at.packed * B);
        t.gemmBlock(
          at.packed * B,
          rows4 * MR * B,
          colTiles,
          (base + right + i0 * NR) * B,
          hd.Tq4 * NR * B,
          hd.HS8 / NR,
          acc * B,
          hd.HS8 * B,
          rows4,
          1,
        );
      }
    }
  }
  const out = ((b * KVH + g) * Tk + j0) * HS;
  const dvOffset = a.dkOffset + a.B * KVH * Tk * HS;
  for (let c = 0; c < cols; c++) {
    for (let d = 0; d < HS; d++) {
      a.grads[a.dkOffset + out + c * HS + d] = t.f32[at.acc1 + c * hd.HS8 + d]!;
      a.grads[dvOffset + out + c * HS + d] = t.f32[at.acc2 + c * hd.HS8 + d]!;
    }
  }
}

export const wasmAttentionDkDvJob = defineJob(import.meta.url, 'wasmAttentionDkDvTask', wasmAttentionDkDvTask);

/** Pass 2, one task per (head, query block): dQ = scale · Σ_keys dS·K. */
export function wasmAttentionDqTask(a: WasmAttnBackwardArgs, task: number, thread: number): void {
  const { NH, KVH, Tq, HS, hd } = a;
  const rep = NH / KVH;
  const { blk, hr, group, b, h } = decodeTask(a, task, a.qBlocks, rep);
  const x = context(a, group, thread);
  const { t, at, go, base } = x;
  const B = F32_BYTES;
  const i0 = blk * BR;
  const rows = Math.min(BR, Tq - i0);
  t.f32.fill(0, at.acc1, at.acc1 + BR * hd.HS8);
  const end = keyEnd(a, i0, rows);
  for (let j0 = 0; j0 < end; j0 += BC) {
    const cols4 = roundUp(Math.min(BC, end - j0), 4);
    const rows4 = probsAndGrads(x, b, h, hr, i0, rows, j0, Math.min(BC, end - j0));
    t.packDeep4(at.dp * B, BC * B, rows4 / MR, cols4, at.packed * B);
    t.gemmBlock(
      at.packed * B,
      cols4 * MR * B,
      rows4 / MR,
      (base + go.kC + j0 * NR) * B,
      hd.Tk4 * NR * B,
      hd.HS8 / NR,
      at.acc1 * B,
      hd.HS8 * B,
      cols4,
      1,
    );
  }
  const out = ((b * NH + h) * Tq + i0) * HS;
  for (let r = 0; r < rows; r++)
    for (let d = 0; d < HS; d++) a.grads[out + r * HS + d] = t.f32[at.acc1 + r * hd.HS8 + d]! * a.scale;
}

export const wasmAttentionDqJob = defineJob(import.meta.url, 'wasmAttentionDqTask', wasmAttentionDqTask);

/** Pack a chunk of kv groups, run pass 1 and pass 2 over it, repeat. False when the packed data cannot fit (nothing written). */
export function wasmAttentionBackward(
  q: TypedArray,
  k: TypedArray,
  v: TypedArray,
  dout: TypedArray,
  args: Omit<WasmAttnBackwardArgs, 'wasm' | 'hd' | 'plan' | 'g0' | 'qBlocks' | 'kBlocks'>,
  threaded: boolean,
): boolean {
  const { B, NH, KVH, Tq, Tk, HS, scale } = args;
  const hd = headDims(Tq, Tk, HS);
  const rep = NH / KVH;
  const go = groupOffsets(hd);
  const p = plan(threaded ? getNumThreads() : 1, scratch(hd).floats, stageFloats(Math.max(Tq, Tk), hd), go.floats(rep), B * KVH);
  if (p === null) return false;
  countWasmCall('attentionBackward');
  const wasm = wasmHandle();
  const t = wasmThread(wasm);
  const qBlocks = Math.ceil(Tq / BR);
  const kBlocks = Math.ceil(Tk / BC);
  const pack = (group: number, base: number) => {
    const kvOff = group * Tk * HS;
    packRowsAsB(t, p.stageAt, k, kvOff, Tk, HS, hd, base + go.kB);
    packRowsAsB(t, p.stageAt, v, kvOff, Tk, HS, hd, base + go.vB);
    packColumnsAsB(t, p.stageAt, k, kvOff, Tk, HS, hd, base + go.kC);
    for (let hr = 0; hr < rep; hr++) {
      const qOff = (group * rep + hr) * Tq * HS;
      const head = go.head(hr);
      packRowsAsA(t, p.stageAt, q, qOff, Tq, HS, hd, base + head.qA, scale);
      packRowsAsA(t, p.stageAt, dout, qOff, Tq, HS, hd, base + head.dA);
      packColumnsAsB(t, p.stageAt, q, qOff, Tq, HS, hd, base + head.qC, scale);
      packColumnsAsB(t, p.stageAt, dout, qOff, Tq, HS, hd, base + head.dC);
    }
  };
  forEachChunk(p, B * KVH, pack, (g0, chunk) => {
    const job: WasmAttnBackwardArgs = { ...args, wasm, hd, plan: chunk, g0, qBlocks, kBlocks };
    const passes = [
      [wasmAttentionDkDvJob, chunk.groups * kBlocks],
      [wasmAttentionDqJob, chunk.groups * rep * qBlocks],
    ] as const;
    for (const [pass, count] of passes) {
      if (threaded) parallelFor(pass, job, count);
      else for (let i = 0; i < count; i++) pass.run(job, i, 0);
    }
  });
  return true;
}
