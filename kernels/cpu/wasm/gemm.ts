// The WebAssembly SIMD matmul, TypeScript side: the same tiling as ../gemm.ts (one MC×NC tile of C
// per task, all of K, then the epilogue), but the packed panels and the C tile live in the shared
// WebAssembly memory and the inner kernel is gemm_kernel.ts. Float32 only; float64 stays in TypeScript.
// Operands are staged block by block from the caller's arrays (any strides, so every transposition)
// and packed by pack_kernel.ts; inputs are never copied whole: ~4.3 MiB of scratch per thread.

import type { TypedArray } from '../../../core/dtype.js';
import { epilogue, tileOf, type GemmArgs } from '../gemm.js';
import { MR, NR } from './gemm_kernel.js';
import { wasmThread, type WasmHandle, type WasmThread } from './runtime.js';
import { defineJob } from '../threads/tasks.js';

/**
 * Block sizes for a 32 KiB L1 / 1 MiB L2 / 32 MiB L3 core (Zen 4 here), float32:
 * - KC = 256: one B sliver (KC × NR = 8 KiB) stays in L1 while every A sliver of the panel streams
 *   past it; with the A sliver (4 KiB) and the C tile rows that is well under 32 KiB.
 * - MC = 256: the packed A panel (MC × KC = 256 KiB) stays in L2 for the whole pass over the B panel.
 * - NC = 512: the packed B panel (KC × NC = 512 KiB) is read once per pass, sliver by sliver, from L2
 *   or L3; a wider tile also means fewer repacks: each task packs (mc + nc)·K values for
 *   2·mc·nc·K flops, ~340 flops per value packed at 256 × 512.
 * - KS = 1024: an operand stored K-contiguous (row-major A; B as in x·wᵀ) is staged KS columns at a
 *   time, so each copy call moves 4 KiB (a copy into shared memory costs ~0.1 µs per call plus
 *   ~0.3 ns per float: KC-long lines would spend more on calls than on copying).
 * The C tile (MC × NC = 512 KiB) accumulates across K slabs here and is copied out once.
 */
export const WASM_MC = 256;
export const WASM_KC = 256;
export const WASM_NC = 512;
export const WASM_KS = 1024;

const F32_BYTES = 4;
const A_FLOATS = WASM_MC * WASM_KC;
const B_FLOATS = WASM_KC * WASM_NC;
const C_FLOATS = WASM_MC * WASM_NC;
const A_STAGE_FLOATS = WASM_MC * WASM_KS;
const B_STAGE_FLOATS = WASM_NC * WASM_KS;
/** Scratch bytes per thread: packed A and B panels, C tile, A and B staging (each a multiple of 64 bytes). */
export const GEMM_THREAD_BYTES = (A_FLOATS + B_FLOATS + C_FLOATS + A_STAGE_FLOATS + B_STAGE_FLOATS) * F32_BYTES;

export interface WasmGemmArgs extends GemmArgs {
  wasm: WasmHandle;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** One operand of a tile: `extent` rows of A (width MR) or columns of op(B) (width NR), K steps `sDeep` apart. */
interface Operand {
  src: TypedArray;
  off: number;
  sWide: number;
  sDeep: number;
  extent: number;
  width: 4 | 8;
  /** Floats in this thread's scratch: the staged block and the packed panel. */
  stageAt: number;
  packAt: number;
}

/** Compute one mc×nc tile of C (all of K) in WebAssembly memory, copy it out, then its epilogue. */
export function wasmGemmTask(g: WasmGemmArgs, task: number, thread: number): void {
  const t = wasmThread(g.wasm);
  const { batch, i0, j0, mc, nc, cTile } = tileOf(g, task);
  const ldc = roundUp(nc, NR);
  // This thread's scratch, in floats: [A panel | B panel | C tile | A staging | B staging].
  const aAt = (thread * GEMM_THREAD_BYTES) / F32_BYTES;
  const bAt = aAt + A_FLOATS;
  const cAt = bAt + B_FLOATS;
  const A: Operand = {
    src: g.a,
    off: g.aOff[batch]! + i0 * g.sAi,
    sWide: g.sAi,
    sDeep: g.sAp,
    extent: mc,
    width: MR as 4,
    stageAt: cAt + C_FLOATS,
    packAt: aAt,
  };
  const B: Operand = {
    src: g.b,
    off: g.bOff[batch]! + j0 * g.sBj,
    sWide: g.sBj,
    sDeep: g.sBp,
    extent: nc,
    width: NR as 8,
    stageAt: A.stageAt + A_STAGE_FLOATS,
    packAt: bAt,
  };
  const b4 = F32_BYTES;
  for (let ps = 0; ps < g.K; ps += WASM_KS) {
    const ks = Math.min(WASM_KS, g.K - ps);
    for (const op of [A, B]) if (op.sDeep === 1) stageDeep(t.f32, op, ps, ks);
    for (let p0 = ps; p0 < ps + ks; p0 += WASM_KC) {
      const kc = Math.min(WASM_KC, g.K - p0);
      const kcPad = roundUp(kc, 4); // zero K steps add nothing, and keep the packers' 4-step transposes whole
      for (const op of [A, B]) pack(t, op, ps, ks, p0, kc, kcPad);
      t.gemmBlock(
        aAt * b4,
        kcPad * MR * b4,
        Math.ceil(mc / MR),
        bAt * b4,
        kcPad * NR * b4,
        ldc / NR,
        cAt * b4,
        ldc * b4,
        kcPad,
        p0 === 0 ? 0 : 1,
      );
    }
  }
  for (let i = 0; i < mc; i++) g.c.set(t.f32.subarray(cAt + i * ldc, cAt + i * ldc + nc), cTile + i * g.N);
  if (g.bias !== null || g.residual !== null || g.activation !== 0) epilogue(g, cTile, mc, nc, j0);
}

export const wasmGemmJob = defineJob(import.meta.url, 'wasmGemmTask', wasmGemmTask);

/**
 * Stage KS columns (K steps ps..ps+ks) of an operand stored K-contiguous (sDeep = 1: row-major A; B
 * stored [N, K] as in x·wᵀ): one line per row/column, roundUp(ks, 4) floats apart, zero padded to whole
 * slivers, so that every KC slab inside can be packed from it, padding steps included.
 */
function stageDeep(f32: Float32Array, op: Operand, ps: number, ks: number): void {
  stage(f32, op.stageAt, op.src, op.off + ps, op.sWide, op.extent, ks, roundUp(ks, 4), roundUp(op.extent, op.width));
}

/**
 * Pack K steps p0..p0+kc (padded to kcPad with zeros) of an operand into slivers at op.packAt. A
 * K-contiguous operand is read from its staged KS block; one stored the other way (sWide = 1: A
 * stored transposed; B stored [K, N]) is staged here a slab at a time, as kc lines along its width.
 */
function pack(t: WasmThread, op: Operand, ps: number, ks: number, p0: number, kc: number, kcPad: number): void {
  const b4 = F32_BYTES;
  const wide = roundUp(op.extent, op.width);
  if (op.sDeep === 1) {
    const line = roundUp(ks, 4);
    (op.width === 4 ? t.packDeep4 : t.packDeep8)((op.stageAt + p0 - ps) * b4, line * b4, wide / op.width, kcPad, op.packAt * b4);
  } else if (op.sWide === 1) {
    stage(t.f32, op.stageAt, op.src, op.off + p0 * op.sDeep, op.sDeep, kc, op.extent, wide, kcPad);
    (op.width === 4 ? t.packWide4 : t.packWide8)(op.stageAt * b4, wide * b4, wide / op.width, kcPad, op.packAt * b4);
  } else {
    throw new Error(`wasm gemm: an operand with no unit stride (${op.sWide}, ${op.sDeep}) cannot be packed`);
  }
}

/** Copy `lines` lines of `len` floats (source stride `stride`) to f32[at..] at stride `ld`, zero filling to `ld` columns and `linesPad` lines. */
export function stage(
  f32: Float32Array,
  at: number,
  src: TypedArray,
  off: number,
  stride: number,
  lines: number,
  len: number,
  ld: number,
  linesPad: number,
): void {
  if (stride === len && ld === len) {
    f32.set(src.subarray(off, off + lines * len), at); // the whole block is one run
  } else {
    for (let l = 0; l < lines; l++) {
      const from = off + l * stride;
      f32.set(src.subarray(from, from + len), at + l * ld);
      if (ld > len) f32.fill(0, at + l * ld + len, at + (l + 1) * ld);
    }
  }
  if (linesPad > lines) f32.fill(0, at + lines * ld, at + linesPad * ld);
}
