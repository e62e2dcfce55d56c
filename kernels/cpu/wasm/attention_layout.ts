// Where the WebAssembly flash-attention kernels keep things in the shared memory, and how q, k, v
// (and dO) get there: each head is staged (one typed-array copy, zero padded) and packed once per
// call into the operand layouts gemm_kernel.ts reads, so the per-block products need no packing.
// Memory stays O(T·HS): heads are packed for a bounded chunk of kv groups per parallel job.

import type { TypedArray } from '../../../core/dtype.js';
import { BC, BR, type AttnDims } from '../attention_common.js';
import { stage } from './gemm.js';
import { MR, NR } from './gemm_kernel.js';
import { reserveBytes, WASM_MAX_BYTES, type WasmHandle, type WasmThread } from './runtime.js';

export const F32_BYTES = 4;
export const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * Packed data of the kv groups in one job is kept under `chunkBytes` (a chunk has at least one
 * group): 256 MiB holds ten groups at T = 8192, HS = 128, 4 query heads per kv head. Exported so
 * tests can force many chunks on small shapes.
 */
export const wasmAttentionTuning = { chunkBytes: 256 * 2 ** 20 };

/** Padded sizes: head size to 4 (the depth of score products) and 8 (the columns of P·V); T to whole slivers and to 4. */
export interface HeadDims {
  HS4: number;
  HS8: number;
  Tq4: number;
  Tk4: number;
  Tk8: number;
}

export function headDims(Tq: number, Tk: number, HS: number): HeadDims {
  return { HS4: roundUp(HS, 4), HS8: roundUp(HS, NR), Tq4: roundUp(Tq, MR), Tk4: roundUp(Tk, 4), Tk8: roundUp(Tk, NR) };
}

/**
 * A job's memory plan, in floats: per-thread scratch first, then the staging area (one head, used by
 * the calling thread while packing), then `groups` kv groups of packed data, `groupFloats` each.
 */
export interface Plan {
  threadFloats: number;
  stageAt: number;
  dataAt: number;
  groupFloats: number;
  /** kv groups (batch × kv head) packed per job. */
  groups: number;
}

/** What every WebAssembly attention job carries besides its inputs and outputs. */
export interface WasmAttnJob extends AttnDims {
  wasm: WasmHandle;
  hd: HeadDims;
  plan: Plan;
  /** This job's kv groups are g0 .. g0 + plan.groups − 1 (group = b·KVH + kv head). */
  g0: number;
  qBlocks: number;
}

/**
 * Task → (kv group, head hr within the group, block): tasks run `blocks` per head and `perGroup` heads
 * per group (the query heads, or 1 for per-kv-head work). Also the batch b, kv head g and head h.
 */
export function decodeTask(a: WasmAttnJob, task: number, blocks: number, perGroup: number) {
  const blk = task % blocks;
  const gh = (task - blk) / blocks;
  const hr = gh % perGroup;
  const group = a.g0 + (gh - hr) / perGroup;
  const g = group % a.KVH;
  return { blk, hr, group, b: Math.floor(group / a.KVH), g, h: g * (a.NH / a.KVH) + hr };
}

/**
 * Lay out a job: `threadFloats` of scratch for each of `threads`, a staging area of `stageFloats`, and
 * as many groups of `groupFloats` as fit in `chunkBytes` (at least one). Null when even one group does
 * not fit in the memory's bound — the caller then takes the TypeScript path.
 */
export function plan(
  threads: number,
  threadFloats: number,
  stageFloats: number,
  groupFloats: number,
  totalGroups: number,
): Plan | null {
  const align = (n: number) => roundUp(n, 16); // 64-byte boundaries
  const tf = align(threadFloats);
  const stageAt = threads * tf;
  const dataAt = stageAt + align(stageFloats);
  const gf = align(groupFloats);
  const groups = Math.max(1, Math.min(totalGroups, Math.floor(wasmAttentionTuning.chunkBytes / (gf * F32_BYTES))));
  const bytes = (dataAt + groups * gf) * F32_BYTES;
  if (bytes > WASM_MAX_BYTES || !reserveBytes(bytes)) return null;
  return { threadFloats: tf, stageAt, dataAt, groupFloats: gf, groups };
}

/** For each chunk of up to p.groups kv groups: pack each group at its base (calling thread), then run the chunk's job. */
export function forEachChunk(
  p: Plan,
  totalGroups: number,
  pack: (group: number, base: number) => void,
  run: (g0: number, chunk: Plan) => void,
): void {
  for (let g0 = 0; g0 < totalGroups; g0 += p.groups) {
    const groups = Math.min(p.groups, totalGroups - g0);
    for (let gi = 0; gi < groups; gi++) pack(g0 + gi, p.dataAt + gi * p.groupFloats);
    run(g0, { ...p, groups });
  }
}

/**
 * A head [T, HS] (rows `off`.. of src) as the right operand of a product over HS — Kᵀ in S = Q·Kᵀ,
 * Vᵀ in dP = dO·Vᵀ: slivers of NR rows, HS4 deep. Floats written: Tk8·HS4.
 */
export function packRowsAsB(
  t: WasmThread,
  stageAt: number,
  src: TypedArray,
  off: number,
  T: number,
  HS: number,
  d: HeadDims,
  at: number,
): void {
  const T8 = roundUp(T, NR);
  stage(t.f32, stageAt, src, off, HS, T, HS, d.HS4, T8);
  t.packDeep8(stageAt * F32_BYTES, d.HS4 * F32_BYTES, T8 / NR, d.HS4, at * F32_BYTES);
}

/**
 * A head [T, HS] as the left operand of a product over HS — Q (times `scale`) in Q·Kᵀ, dO in dO·Vᵀ:
 * slivers of MR rows, HS4 deep. Floats written: Tq4·HS4.
 */
export function packRowsAsA(
  t: WasmThread,
  stageAt: number,
  src: TypedArray,
  off: number,
  T: number,
  HS: number,
  d: HeadDims,
  at: number,
  scale = 1,
): void {
  const T4 = roundUp(T, MR);
  stage(t.f32, stageAt, src, off, HS, T, HS, d.HS4, T4);
  t.packDeep4(stageAt * F32_BYTES, d.HS4 * F32_BYTES, T4 / MR, d.HS4, at * F32_BYTES);
  if (scale !== 1) t.scale(at * F32_BYTES, (T4 * d.HS4) / 4, scale);
}

/**
 * A head [T, HS] as the right operand of a product over T — V in O = P·V, and likewise dO, Q, K in
 * the backward: slivers of NR head-size columns, T4 = T rounded up to 4 deep (zero rows past T), so
 * HS8/NR slivers T4·NR floats apart. Floats written: HS8·T4.
 */
export function packColumnsAsB(
  t: WasmThread,
  stageAt: number,
  src: TypedArray,
  off: number,
  T: number,
  HS: number,
  d: HeadDims,
  at: number,
  scale = 1,
): void {
  const T4 = roundUp(T, 4);
  stage(t.f32, stageAt, src, off, HS, T, HS, d.HS8, T4);
  t.packWide8(stageAt * F32_BYTES, d.HS8 * F32_BYTES, d.HS8 / NR, T4, at * F32_BYTES);
  if (scale !== 1) t.scale(at * F32_BYTES, (d.HS8 * T4) / 4, scale);
}

/** Scratch floats per thread for score blocks: S and P (BR × BC each), a BR × HS8 accumulator, and per row m and l. */
export function scoreScratchFloats(d: HeadDims): number {
  return 2 * BR * BC + BR * d.HS8 + 2 * BR;
}

/** Staging floats for one head of up to T rows. */
export function stageFloats(T: number, d: HeadDims): number {
  return roundUp(T, NR) * d.HS8;
}
