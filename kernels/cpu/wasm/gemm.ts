// The WebAssembly SIMD matmul, TypeScript side: the same tiling as ../gemm.ts (one MC×NC tile of C
// per task, all of K, then the epilogue), but the packed panels and the C tile live in the shared
// WebAssembly memory and the inner kernel is gemm_kernel.ts. Float32 only; float64 stays in TypeScript.
// Packing reads the caller's arrays directly (any strides, so every transposition), so inputs are
// never copied whole into WebAssembly memory: only ~1.3 MiB of scratch per thread.

import type { TypedArray } from '../../../core/dtype.js';
import { epilogue, tileOf, type GemmArgs } from '../gemm.js';
import { MR, NR } from './gemm_kernel.js';
import { wasmThread, type WasmHandle, type WasmThread } from './runtime.js';

/**
 * Block sizes for a 32 KiB L1 / 1 MiB L2 / 32 MiB L3 core (Zen 4 here), float32:
 * - KC = 256: one B sliver (KC × NR = 8 KiB) stays in L1 while every A sliver of the panel streams
 *   past it; with the A sliver (4 KiB) and the C tile rows that is well under 32 KiB.
 * - MC = 256: the packed A panel (MC × KC = 256 KiB) stays in L2 for the whole pass over the B panel.
 * - NC = 512: the packed B panel (KC × NC = 512 KiB) is read once per pass, sliver by sliver, from L2
 *   or L3; a wider tile also means fewer repacks: each task packs (mc + nc)·K values for
 *   2·mc·nc·K flops, ~340 flops per value packed at 256 × 512.
 * The C tile (MC × NC = 512 KiB) accumulates across K slabs here and is copied out once.
 */
export const WASM_MC = 256;
export const WASM_KC = 256;
export const WASM_NC = 512;

const F32_BYTES = 4;
const A_FLOATS = WASM_MC * WASM_KC;
const B_FLOATS = WASM_KC * WASM_NC;
const C_FLOATS = WASM_MC * WASM_NC;
const STAGE_FLOATS = Math.max(WASM_MC, WASM_NC) * WASM_KC;
/** Scratch bytes per thread: packed A panel, packed B panel, C tile, staging (each a multiple of 64 bytes). */
export const GEMM_THREAD_BYTES = (A_FLOATS + B_FLOATS + C_FLOATS + STAGE_FLOATS) * F32_BYTES;

export interface WasmGemmArgs extends GemmArgs {
  wasm: WasmHandle;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Compute one mc×nc tile of C (all of K) in WebAssembly memory, copy it out, then its epilogue. */
export function wasmGemmTask(g: WasmGemmArgs, task: number, thread: number): void {
  const t = wasmThread(g.wasm);
  const { batch, i0, j0, mc, nc, cTile } = tileOf(g, task);
  const ldc = roundUp(nc, NR);
  // This thread's scratch, in floats: [A panel | B panel | C tile | staging].
  const aAt = (thread * GEMM_THREAD_BYTES) / F32_BYTES;
  const bAt = aAt + A_FLOATS;
  const cAt = bAt + B_FLOATS;
  const stageAt = cAt + C_FLOATS;
  for (let p0 = 0; p0 < g.K; p0 += WASM_KC) {
    const kc = Math.min(WASM_KC, g.K - p0);
    const kcPad = roundUp(kc, 4); // zero K steps add nothing, and keep the packers' 4-step transposes whole
    packPanel(t, g.a, g.aOff[batch] + i0 * g.sAi + p0 * g.sAp, g.sAi, g.sAp, mc, kc, kcPad, MR, stageAt, aAt);
    packPanel(t, g.b, g.bOff[batch] + p0 * g.sBp + j0 * g.sBj, g.sBj, g.sBp, nc, kc, kcPad, NR, stageAt, bAt);
    const B = F32_BYTES;
    t.gemmBlock(aAt * B, kcPad * MR * B, Math.ceil(mc / MR), bAt * B, kcPad * NR * B, ldc / NR, cAt * B, ldc * B, kcPad, p0 === 0 ? 0 : 1);
  }
  for (let i = 0; i < mc; i++) g.c.set(t.f32.subarray(cAt + i * ldc, cAt + i * ldc + nc), cTile + i * g.N);
  if (g.bias !== null || g.residual !== null || g.activation !== 0) epilogue(g, cTile, mc, nc, j0);
}

/**
 * Pack `extent` rows of A (width MR) or columns of op(B) (width NR) × kc steps of K into slivers at
 * f32[dstAt..]. First the block is staged: copied line by line (typed-array `set`, a memcpy) from
 * the caller's array into WebAssembly memory, zero padded to whole slivers and kcPad steps; then a
 * WebAssembly packer reorders it. Lines run along K when sDeep = 1 (row-major A; B stored [N, K] as
 * in x·wᵀ) and along the wide dimension when sWide = 1 (A stored transposed; B stored [K, N]).
 */
export function packPanel(t: WasmThread, src: TypedArray, off: number, sWide: number, sDeep: number, extent: number, kc: number, kcPad: number, width: 4 | 8, stageAt: number, dstAt: number): void {
  const f32 = t.f32;
  const wide = roundUp(extent, width);
  const B = F32_BYTES;
  if (sDeep === 1) {
    stage(f32, stageAt, src, off, sWide, extent, kc, kcPad, wide);
    (width === 4 ? t.packDeep4 : t.packDeep8)(stageAt * B, kcPad * B, wide / width, kcPad, dstAt * B);
  } else if (sWide === 1) {
    stage(f32, stageAt, src, off, sDeep, kc, extent, wide, kcPad);
    (width === 4 ? t.packWide4 : t.packWide8)(stageAt * B, wide * B, wide / width, kcPad, dstAt * B);
  } else {
    throw new Error(`wasm gemm: an operand with no unit stride (${sWide}, ${sDeep}) cannot be packed`);
  }
}

/** Copy `lines` lines of `len` floats (source stride `stride`) to f32[at..] at stride `ld`, zero filling to `ld` columns and `linesPad` lines. */
function stage(f32: Float32Array, at: number, src: TypedArray, off: number, stride: number, lines: number, len: number, ld: number, linesPad: number): void {
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
