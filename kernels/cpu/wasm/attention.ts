// Flash attention forward in WebAssembly SIMD (float32): the same blocks and online softmax as
// ../attention.ts, but S = Q·Kᵀ and O += P·V run in gemm_kernel.ts over operands packed once per
// call (attention_layout.ts), and the online softmax in softmax_kernel.ts; masks are added in
// TypeScript (attention_common.ts) to the score block in WebAssembly memory. Memory stays O(T·HS).

import type { TypedArray } from '../../../core/dtype.js';
import { BC, BR, keyEnd, maskBlock, type AttnDims } from '../attention_common.js';
import { allocShared } from '../shared.js';
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
  scoreScratchFloats,
  stageFloats,
  type HeadDims,
  type WasmAttnJob,
} from './attention_layout.js';
import { MR, NR } from './gemm_kernel.js';
import { countWasmCall, wasmHandle, wasmThread } from './runtime.js';
import { NEG_MAX_F32 } from './softmax_kernel.js';

export interface WasmAttnForwardArgs extends WasmAttnJob {
  out: Float32Array;
  lse: Float32Array;
}

/** Packed data of one kv group: K as the right operand of Q·Kᵀ, V of P·V, then each query head. */
function groupOffsets(hd: HeadDims) {
  const v = hd.Tk8 * hd.HS4;
  const q = v + hd.HS8 * hd.Tk4;
  return { k: 0, v, q, qHead: hd.Tq4 * hd.HS4, floats: (head: number) => q + head * hd.Tq4 * hd.HS4 };
}

/** One task: query rows [i0, i0 + BR) of one head of one kv group in this job. */
export function wasmAttentionForwardTask(a: WasmAttnForwardArgs, task: number, thread: number): void {
  const { NH, KVH, Tq, HS, hd } = a;
  const t = wasmThread(a.wasm);
  const f32 = t.f32;
  const { blk, hr, group, b, h } = decodeTask(a, task, a.qBlocks, NH / KVH);
  const i0 = blk * BR;
  const rows = Math.min(BR, Tq - i0);
  const rowTiles = Math.ceil(rows / MR);
  const go = groupOffsets(hd);
  const base = a.plan.dataAt + (group - a.g0) * a.plan.groupFloats;
  const qAt = base + go.q + hr * go.qHead + i0 * hd.HS4;
  // This thread's scratch: S, P (packed as the left operand of P·V), the output accumulator, m, l.
  const sAt = thread * a.plan.threadFloats;
  const pAt = sAt + BR * BC;
  const accAt = pAt + BR * BC;
  const mAt = accAt + BR * hd.HS8;
  const lAt = mAt + BR;
  const S = f32.subarray(sAt, sAt + BR * BC);
  f32.fill(0, accAt, accAt + BR * hd.HS8);
  f32.fill(NEG_MAX_F32, mAt, mAt + BR);
  f32.fill(0, lAt, lAt + BR);
  const B = F32_BYTES;
  const end = keyEnd(a, i0, rows);
  for (let j0 = 0; j0 < end; j0 += BC) {
    const cols = Math.min(BC, end - j0);
    const cols4 = Math.ceil(cols / 4) * 4;
    t.gemmBlock(
      qAt * B,
      hd.HS4 * MR * B,
      rowTiles,
      (base + go.k + j0 * hd.HS4) * B,
      hd.HS4 * NR * B,
      Math.ceil(cols / NR),
      sAt * B,
      BC * B,
      hd.HS4,
      0,
    );
    maskBlock(a, S, b, h, i0, rows, j0, cols);
    // Columns past the block's keys take no part in the softmax.
    for (let r = 0; cols < cols4 && r < rowTiles * MR; r++) S.fill(-Infinity, r * BC + cols, r * BC + cols4);
    t.softmaxBlock(
      sAt * B,
      BC * B,
      pAt * B,
      BC * MR * B,
      rowTiles,
      cols4 / 4,
      mAt * B,
      lAt * B,
      accAt * B,
      hd.HS8 * B,
      hd.HS8 / 4,
    );
    t.gemmBlock(
      pAt * B,
      BC * MR * B,
      rowTiles,
      (base + go.v + j0 * NR) * B,
      hd.Tk4 * NR * B,
      hd.HS8 / NR,
      accAt * B,
      hd.HS8 * B,
      cols,
      1,
    );
  }
  for (let r = 0; r < rows; r++) {
    const o = ((b * NH + h) * Tq + i0 + r) * HS;
    const acc = accAt + r * hd.HS8;
    const l = f32[lAt + r]!;
    for (let d = 0; d < HS; d++) a.out[o + d] = f32[acc + d]! / l;
    a.lse[(b * NH + h) * Tq + i0 + r] = f32[mAt + r]! + Math.log(l);
  }
}

export const wasmAttentionForwardJob = defineJob(import.meta.url, 'wasmAttentionForwardTask', wasmAttentionForwardTask);

/**
 * The forward over all heads: pack a chunk of kv groups (K, V and their query heads), run its blocks
 * on every thread, repeat. Returns null when the packed data cannot fit (the caller falls back).
 */
export function wasmAttentionForward(
  q: TypedArray,
  k: TypedArray,
  v: TypedArray,
  dims: AttnDims,
  scale: number,
  threaded: boolean,
): { out: Float32Array; lse: Float32Array } | null {
  const { B, NH, KVH, Tq, Tk, HS } = dims;
  const hd = headDims(Tq, Tk, HS);
  const rep = NH / KVH;
  const go = groupOffsets(hd);
  const threads = threaded ? getNumThreads() : 1;
  const p = plan(threads, scoreScratchFloats(hd), stageFloats(Math.max(Tq, Tk), hd), go.floats(rep), B * KVH);
  if (p === null) return null;
  countWasmCall('attention');
  const alloc = (n: number) => (threaded ? allocShared('float32', n) : new Float32Array(n));
  const out = alloc(B * NH * Tq * HS);
  const lse = alloc(B * NH * Tq);
  const qBlocks = Math.ceil(Tq / BR);
  const wasm = wasmHandle();
  const t = wasmThread(wasm);
  // Query head (b, g·rep + hr) is head number group·rep + hr.
  const pack = (group: number, base: number) => {
    packRowsAsB(t, p.stageAt, k, group * Tk * HS, Tk, HS, hd, base + go.k);
    packColumnsAsB(t, p.stageAt, v, group * Tk * HS, Tk, HS, hd, base + go.v);
    for (let hr = 0; hr < rep; hr++)
      packRowsAsA(t, p.stageAt, q, (group * rep + hr) * Tq * HS, Tq, HS, hd, base + go.q + hr * go.qHead, scale);
  };
  forEachChunk(p, B * KVH, pack, (g0, chunk) => {
    const args: WasmAttnForwardArgs = { ...dims, wasm, hd, plan: chunk, g0, qBlocks, out, lse };
    const tasks = chunk.groups * rep * qBlocks;
    if (threaded) parallelFor(wasmAttentionForwardJob, args, tasks);
    else for (let i = 0; i < tasks; i++) wasmAttentionForwardTask(args, i, 0);
  });
  return { out, lse };
}
