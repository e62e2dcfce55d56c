// What the flash-attention forward and backward passes share: the problem's dimensions and buffers,
// float64 copies of the inputs, the mask/causal rule for a block of scores, per-thread scratch.

import type { TypedArray } from '../../core/dtype.js';
import type { Buf } from '../../core/kernel_types.js';
import { allocShared } from './shared.js';

/** Query rows per block (forward, dQ pass) and keys per block (all passes). */
export const BR = 32;
export const BC = 64;

export interface AttnDims {
  B: number;
  NH: number;
  KVH: number;
  Tq: number;
  Tk: number;
  HS: number;
  causal: boolean;
  offset: number;
  /** Additive mask, flat, with element strides for batch, head and query (0 where broadcast). */
  mask: TypedArray | null;
  maskSB: number;
  maskSH: number;
  maskSQ: number;
}

export function dimsOf(
  q: Buf<TypedArray>,
  k: Buf<TypedArray>,
  mask: Buf<TypedArray> | null,
  causal: boolean,
  offset: number,
): AttnDims {
  const [B, NH, Tq, HS] = q.shape;
  const [, KVH, Tk] = k.shape;
  const [MB, MH, MQ] = mask ? mask.shape : [1, 1, 1];
  return {
    B,
    NH,
    KVH,
    Tq,
    Tk,
    HS,
    causal,
    offset,
    mask: mask ? mask.data : null,
    maskSB: MB === 1 ? 0 : MH * MQ * Tk,
    maskSH: MH === 1 ? 0 : MQ * Tk,
    maskSQ: MQ === 1 ? 0 : Tk,
  };
}

/** A float64 copy (times `scale`) — shared memory when threads will read it. */
export function toF64(a: TypedArray, scale: number, shared: boolean): Float64Array {
  const out = shared ? allocShared('float64', a.length) : new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * scale;
  return out;
}

/**
 * Finish a block of scores S[rows × cols] (rows i0.., keys j0..) for query head h of batch b: add the
 * mask and set −∞ where causality forbids (key j > offset + i).
 */
export function maskBlock(
  d: AttnDims,
  S: Float32Array | Float64Array,
  b: number,
  h: number,
  i0: number,
  rows: number,
  j0: number,
  cols: number,
): void {
  if (d.mask !== null) {
    const M = d.mask;
    for (let r = 0; r < rows; r++) {
      const m = b * d.maskSB + h * d.maskSH + (i0 + r) * d.maskSQ + j0;
      for (let c = 0; c < cols; c++) S[r * BC + c] += M[m + c];
    }
  }
  // Only blocks that cross the diagonal have forbidden entries.
  if (d.causal && j0 + cols - 1 > d.offset + i0) {
    for (let r = 0; r < rows; r++) {
      const first = Math.max(0, d.offset + i0 + r + 1 - j0);
      for (let c = first; c < cols; c++) S[r * BC + c] = -Infinity;
    }
  }
}

/** One past the last key any of rows i0..i0+rows−1 may see. */
export function keyEnd(d: AttnDims, i0: number, rows: number): number {
  return d.causal ? Math.min(d.Tk, d.offset + i0 + rows) : d.Tk;
}

/** Grow-only scratch arrays, one set per thread (each worker has its own module instance). */
const scratch = new Map<string, Float64Array>();

export function buffer(name: string, n: number): Float64Array {
  let b = scratch.get(name);
  if (!b || b.length < n) {
    b = new Float64Array(n);
    scratch.set(name, b);
  }
  return b;
}
