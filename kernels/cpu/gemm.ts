// The fast matrix multiply (GotoBLAS/BLIS structure, in plain TypeScript): C is cut into MC×NC
// tiles, one task each; a task walks K in KC-deep slabs, packs its A block into MR-row slivers and
// its B block into NR-column slivers (float64, contiguous, zero-padded — so any transposition or
// stride is absorbed by the packing), and runs a 4×4 register-tiled micro-kernel over them.
// An optional epilogue (bias, activation, residual) is applied to each finished tile while it is hot.

import type { TypedArray } from '../../core/dtype.js';
import { gelu, sigmoid } from './math.js';
import { defineJob } from './threads/tasks.js';

export const MR = 4;
export const NR = 4;
/**
 * Block sizes for a 32 KiB L1 / 1 MiB L2 core (measured best of MC 64–256, KC 64–512, NC 128–512 on
 * this project's Zen 4 machine): an A sliver plus a B sliver (2 × 4 × 128 doubles = 8 KiB) stay in
 * L1 through the micro-kernel; the packed A block (256 × 128 doubles = 256 KiB) and B block
 * (128 × 256 doubles = 256 KiB) share L2.
 */
export const MC = 256;
export const NC = 256;
export const KC = 128;

export const ACTIVATIONS = ['none', 'silu', 'gelu', 'gelu_tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface GemmArgs {
  a: TypedArray;
  b: TypedArray;
  c: TypedArray;
  M: number;
  N: number;
  K: number;
  /** Element offset of each batch's A and B matrix; C batches are contiguous M×N blocks. */
  aOff: Int32Array;
  bOff: Int32Array;
  /** Element strides of op(A) as M×K and op(B) as K×N. */
  sAi: number;
  sAp: number;
  sBp: number;
  sBj: number;
  /** Tile size (at most MC × NC; smaller when that leaves threads without work) and the tile grid. */
  mc: number;
  nc: number;
  mTiles: number;
  nTiles: number;
  /** Epilogue: c = act(c + bias[j]) + residual[i, j]; `pre` receives c + bias before the activation. */
  bias: TypedArray | null;
  residual: TypedArray | null;
  activation: number;
  pre: TypedArray | null;
}

// Per-thread packing buffers (each worker has its own module instance).
const ap = new Float64Array(MC * KC);
const bp = new Float64Array(KC * NC);

/**
 * The tile size for a product: `max` (MC × NC here, the WebAssembly path passes its own), halved (the larger side first, down to 64) until there are at
 * least two tiles per thread — a 256×256 product is one MC×NC tile, which would leave a core idle.
 */
export function tileSize(
  M: number,
  N: number,
  batch: number,
  threads: number,
  max = { mc: MC, nc: NC },
): { mc: number; nc: number } {
  let [mc, nc] = [max.mc, max.nc];
  const tiles = () => batch * Math.ceil(M / mc) * Math.ceil(N / nc);
  while (tiles() < 2 * threads && (mc > 64 || nc > 64)) {
    if ((mc >= nc && mc > 64) || nc <= 64) mc /= 2;
    else nc /= 2;
  }
  return { mc, nc };
}

/** Task → its batch and tile of C: rows i0..i0+mc, columns j0..j0+nc, starting at element cTile. */
export function tileOf(g: GemmArgs, task: number) {
  const perBatch = g.mTiles * g.nTiles;
  const batch = Math.floor(task / perBatch);
  const tile = task - batch * perBatch;
  const i0 = Math.floor(tile / g.nTiles) * g.mc;
  const j0 = (tile % g.nTiles) * g.nc;
  const cTile = batch * g.M * g.N + i0 * g.N + j0;
  return { batch, i0, j0, mc: Math.min(g.mc, g.M - i0), nc: Math.min(g.nc, g.N - j0), cTile };
}

/** Compute one MC×NC tile of C (all of K), then its epilogue. */
export function gemmTask(g: GemmArgs, task: number): void {
  const { batch, i0, j0, mc, nc, cTile } = tileOf(g, task);
  for (let p0 = 0; p0 < g.K; p0 += KC) {
    const kc = Math.min(KC, g.K - p0);
    pack(g.a, g.aOff[batch] + i0 * g.sAi + p0 * g.sAp, g.sAi, g.sAp, mc, kc, MR, ap); // A block, MR-row slivers
    pack(g.b, g.bOff[batch] + p0 * g.sBp + j0 * g.sBj, g.sBj, g.sBp, nc, kc, NR, bp); // B block, NR-column slivers
    for (let jr = 0; jr < nc; jr += NR) {
      for (let ir = 0; ir < mc; ir += MR) {
        micro4x4(ap, ir * kc, bp, jr * kc, kc, g.c, cTile + ir * g.N + jr, g.N, Math.min(MR, mc - ir), Math.min(NR, nc - jr));
      }
    }
  }
  if (g.bias !== null || g.residual !== null || g.activation !== 0) epilogue(g, cTile, mc, nc, j0);
}

export const gemmJob = defineJob(import.meta.url, 'gemmTask', gemmTask);

/**
 * Pack a block into slivers of `width` (MR rows of A, or NR columns of B) laid out depth-first:
 * dst[s·kc + p·width + r] = src[off + (s + r)·sWide + p·sDeep], zero past `extent` — so the
 * micro-kernel reads both operands contiguously whatever their strides or transposition.
 */
function pack(
  src: TypedArray,
  off: number,
  sWide: number,
  sDeep: number,
  extent: number,
  kc: number,
  width: number,
  dst: Float64Array,
): void {
  for (let s = 0; s < extent; s += width) {
    const valid = Math.min(width, extent - s);
    for (let p = 0; p < kc; p++) {
      const from = off + s * sWide + p * sDeep;
      const to = s * kc + p * width;
      for (let r = 0; r < width; r++) dst[to + r] = r < valid ? src[from + r * sWide] : 0;
    }
  }
}

/**
 * C[0:mr, 0:nr] += A-sliver · B-sliver over kc. The 16 partial sums live in local variables (the
 * "registers"); each step loads 4 values of A and 4 of B and does 16 multiply-adds.
 */
function micro4x4(
  A: Float64Array,
  a: number,
  B: Float64Array,
  b: number,
  kc: number,
  C: TypedArray,
  c: number,
  ldc: number,
  mr: number,
  nr: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++, a += MR, b += NR) {
    const a0 = A[a],
      a1 = A[a + 1],
      a2 = A[a + 2],
      a3 = A[a + 3];
    const b0 = B[b],
      b1 = B[b + 1],
      b2 = B[b + 2],
      b3 = B[b + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  if (mr === MR && nr === NR) {
    C[c] += c00;
    C[c + 1] += c01;
    C[c + 2] += c02;
    C[c + 3] += c03;
    c += ldc;
    C[c] += c10;
    C[c + 1] += c11;
    C[c + 2] += c12;
    C[c + 3] += c13;
    c += ldc;
    C[c] += c20;
    C[c + 1] += c21;
    C[c + 2] += c22;
    C[c + 3] += c23;
    c += ldc;
    C[c] += c30;
    C[c + 1] += c31;
    C[c + 2] += c32;
    C[c + 3] += c33;
    return;
  }
  // An edge tile: write back only the valid mr × nr corner.
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < mr; r++) for (let j = 0; j < nr; j++) C[c + r * ldc + j] += acc[r * NR + j];
}

/** Columns per task of the matrix-vector path. */
export const GEMV_COLS = 512;

/**
 * For products with fewer than MR rows (decoding one token: x [1, K] · wᵀ) the 4×4 tile would waste
 * most of its work and the packing would dominate, so each task takes GEMV_COLS columns and streams
 * B once: with B stored [N, K] (x·wᵀ) each output is a dot product of two contiguous rows (four
 * partial sums for instruction-level parallelism); with B stored [K, N] rows of B are added scaled.
 */
export function gemvTask(g: GemmArgs, task: number): void {
  const batch = Math.floor(task / g.nTiles);
  const j0 = (task - batch * g.nTiles) * GEMV_COLS;
  const nc = Math.min(GEMV_COLS, g.N - j0);
  const { a, b, c, M, N, K, sAi, sAp, sBp, sBj } = g;
  const aOff = g.aOff[batch];
  const bOff = g.bOff[batch];
  const cTile = batch * M * N + j0;
  for (let i = 0; i < M; i++) {
    const ai = aOff + i * sAi;
    const row = cTile + i * N;
    if (sBp === 1) {
      for (let j = 0; j < nc; j++) {
        const bj = bOff + (j0 + j) * sBj;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        let p = 0;
        for (; p + 4 <= K; p += 4) {
          s0 += a[ai + p * sAp] * b[bj + p];
          s1 += a[ai + (p + 1) * sAp] * b[bj + p + 1];
          s2 += a[ai + (p + 2) * sAp] * b[bj + p + 2];
          s3 += a[ai + (p + 3) * sAp] * b[bj + p + 3];
        }
        for (; p < K; p++) s0 += a[ai + p * sAp] * b[bj + p];
        c[row + j] = s0 + s1 + s2 + s3;
      }
    } else {
      const acc = gemvRow.length >= nc ? gemvRow.fill(0, 0, nc) : (gemvRow = new Float64Array(nc));
      for (let p = 0; p < K; p++) {
        const ap = a[ai + p * sAp];
        const bp = bOff + p * sBp + j0 * sBj;
        for (let j = 0; j < nc; j++) acc[j] += ap * b[bp + j * sBj];
      }
      for (let j = 0; j < nc; j++) c[row + j] = acc[j];
    }
  }
  if (g.bias !== null || g.residual !== null || g.activation !== 0) epilogue(g, cTile, M, nc, j0);
}

export const gemvJob = defineJob(import.meta.url, 'gemvTask', gemvTask);

let gemvRow = new Float64Array(GEMV_COLS);

const ACT: ((x: number) => number)[] = [(x) => x, (x) => x * sigmoid(x), (x) => gelu(x, 'none'), (x) => gelu(x, 'tanh')];

/** c = act(c + bias[j]) + residual, over one finished tile; `pre` keeps the value before the activation. */
export function epilogue(g: GemmArgs, cTile: number, mc: number, nc: number, j0: number): void {
  const act = ACT[g.activation];
  const { c, bias, residual, pre } = g;
  for (let i = 0; i < mc; i++) {
    const row = cTile + i * g.N;
    for (let j = 0; j < nc; j++) {
      let v = c[row + j];
      if (bias !== null) v += bias[j0 + j];
      if (pre !== null) pre[row + j] = v;
      v = act(v);
      if (residual !== null) v += residual[row + j];
      c[row + j] = v;
    }
  }
}
