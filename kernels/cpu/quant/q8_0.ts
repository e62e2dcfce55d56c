// ggml's q8_0 block format: 32 weights as int8 codes with one float16 scale (34 bytes, 8.5 bits/weight).
// The quantizer is ggml's reference quantize_row_q8_0_ref, reproduced to the bit: each float32 step is
// rounded with Math.fround (one double operation then one rounding to float32 gives the float32 result
// for + − × ÷), and roundf rounds halves away from zero. Dequantizing is ggml's dequantize_row_q8_0.

import type { Shape } from '../../../core/shape.js';
import { BLOCK_BYTES, checkBlockedBytes, checkQuantizable, QK, readScale, writeScale } from './blocks.js';

const BYTES = BLOCK_BYTES.q8_0;

/** C's roundf: to the nearest integer, halves away from zero (Math.round sends −2.5 to −2, not −3). */
function roundHalfAway(v: number): number {
  // |v| ≤ 2^24 here, so |v| + 0.5 is exact in a double and the floor is the rounded magnitude.
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/**
 * Quantize float32 weights of `shape` (rows along the last dimension, a multiple of 32) to q8_0 blocks:
 * per block d = amax/127, codes = roundf(x·(1/d)) computed with the float32 d, d stored as float16.
 */
export function quantizeQ8_0(x: Float32Array, shape: Shape): Uint8Array {
  const { blocks, bytes } = checkQuantizable('q8_0', x, shape, 127);
  const q = new Uint8Array(bytes);
  const codes = new Int8Array(q.buffer);
  for (let b = 0; b < blocks; b++) {
    const src = b * QK;
    const dst = b * BYTES;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[src + j]!));
    const d = Math.fround(amax / 127);
    // An all-zero block has d = 0: its codes are all 0 rather than NaN.
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    writeScale(q, dst, d);
    for (let j = 0; j < QK; j++) codes[dst + 2 + j] = roundHalfAway(Math.fround(x[src + j]! * id));
  }
  return q;
}

/**
 * Dequantize `count` consecutive q8_0 blocks from block `first` into `out` at `at`: x = code·d with the
 * float16 d. A matrix-vector kernel decodes one weight row this way, never the whole weight.
 */
export function dequantizeBlocksQ8_0(q: Uint8Array, first: number, count: number, out: Float32Array, at = 0): void {
  const codes = new Int8Array(q.buffer, q.byteOffset, q.length);
  for (let b = first; b < first + count; b++) {
    const src = b * BYTES;
    const d = readScale(q, src);
    const dst = at + (b - first) * QK;
    for (let j = 0; j < QK; j++) out[dst + j] = codes[src + 2 + j]! * d;
  }
}

/** Dequantize a whole q8_0 weight of `shape` to float32 (for `.to('float32')` and for tests). */
export function dequantizeQ8_0(q: Uint8Array, shape: Shape, out?: Float32Array): Float32Array {
  const { blocks, rows, cols } = checkBlockedBytes('q8_0', q, shape);
  const y = out ?? new Float32Array(rows * cols);
  if (y.length !== rows * cols) throw new Error(`q8_0: the output holds ${y.length} elements, the weight ${rows * cols}`);
  dequantizeBlocksQ8_0(q, 0, blocks, y);
  return y;
}
