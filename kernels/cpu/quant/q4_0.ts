// ggml's q4_0 block format: 32 weights as 4-bit codes with one float16 scale (18 bytes, 4.5 bits/weight).
// The quantizer is ggml's reference quantize_row_q4_0_ref, reproduced to the bit (Math.fround at every
// float32 step; C's float → int8 conversion truncates toward zero). Byte j of a block holds element j in
// its low nibble and element j + 16 in its high nibble. Dequantizing is ggml's dequantize_row_q4_0.

import type { Shape } from '../../../core/shape.js';
import { BLOCK_BYTES, checkBlockedBytes, checkQuantizable, QK, readScale, writeScale } from './blocks.js';

const BYTES = BLOCK_BYTES.q4_0;
const HALF = QK / 2;

/** ggml's MIN(15, (int8_t)(v + 8.5f)): codes 0…15 for v = x/d in [−8, 8], the top one clamped. */
function code(v: number): number {
  return Math.min(15, Math.trunc(Math.fround(v + 8.5)));
}

/**
 * Quantize float32 weights of `shape` (rows along the last dimension, a multiple of 32) to q4_0 blocks:
 * per block the signed value of largest magnitude `max` (the first one on a tie) gives d = max/−8, so that
 * value gets code 0 exactly and the codes reach up to +8·|d| on the other side (clamped to 7·|d|).
 */
export function quantizeQ4_0(x: Float32Array, shape: Shape): Uint8Array {
  const { blocks, bytes } = checkQuantizable('q4_0', x, shape, 8);
  const q = new Uint8Array(bytes);
  for (let b = 0; b < blocks; b++) {
    const src = b * QK;
    const dst = b * BYTES;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[src + j]!;
      // Strictly greater: of two values of equal magnitude and opposite sign, the first decides the sign of d.
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    // max/−8 is exact (unless subnormal); an all-zero block gets d = −0, stored as the half 0x8000, as in ggml.
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    writeScale(q, dst, d);
    for (let j = 0; j < HALF; j++) {
      const lo = code(Math.fround(x[src + j]! * id));
      const hi = code(Math.fround(x[src + HALF + j]! * id));
      q[dst + 2 + j] = lo | (hi << 4);
    }
  }
  return q;
}

/**
 * Dequantize `count` consecutive q4_0 blocks from block `first` into `out` at `at`: x = (code − 8)·d with
 * the float16 d. A matrix-vector kernel decodes one weight row this way, never the whole weight.
 */
export function dequantizeBlocksQ4_0(q: Uint8Array, first: number, count: number, out: Float32Array, at = 0): void {
  for (let b = first; b < first + count; b++) {
    const src = b * BYTES;
    const d = readScale(q, src);
    const dst = at + (b - first) * QK;
    for (let j = 0; j < HALF; j++) {
      const byte = q[src + 2 + j]!;
      out[dst + j] = ((byte & 0x0f) - 8) * d;
      out[dst + HALF + j] = ((byte >>> 4) - 8) * d;
    }
  }
}

/** Dequantize a whole q4_0 weight of `shape` to float32 (for `.to('float32')` and for tests). */
export function dequantizeQ4_0(q: Uint8Array, shape: Shape, out?: Float32Array): Float32Array {
  const { blocks, rows, cols } = checkBlockedBytes('q4_0', q, shape);
  const y = out ?? new Float32Array(rows * cols);
  if (y.length !== rows * cols) throw new Error(`q4_0: the output holds ${y.length} elements, the weight ${rows * cols}`);
  dequantizeBlocksQ4_0(q, 0, blocks, y);
  return y;
}
