// The five forms a weight matrix [out, in] can be stored in for the matrix-vector kernels: float32 as is,
// bfloat16 and float16 as 16-bit patterns, and ggml's q8_0 and q4_0 blocks. Here: their arrays, their
// sizes, packing a float32 weight into each, and decoding one row back to float32 (the kernels' inner step).

import { fmt, type Shape } from '../../../core/shape.js';
import { bf16ToF32, f32ToBf16 } from './bfloat16.js';
import { BLOCK_BYTES, blockLayout, QK } from './blocks.js';
import { f16ToF32, f32ToF16 } from './float16.js';
import { dequantizeBlocksQ4_0, quantizeQ4_0 } from './q4_0.js';
import { dequantizeBlocksQ8_0, quantizeQ8_0 } from './q8_0.js';

export type WeightFormat = 'float32' | 'bfloat16' | 'float16' | 'q8_0' | 'q4_0';

export const WEIGHT_FORMATS: readonly WeightFormat[] = ['float32', 'bfloat16', 'float16', 'q8_0', 'q4_0'];

/** The host array each format is held in. */
export interface WeightArrays {
  float32: Float32Array;
  bfloat16: Uint16Array;
  float16: Uint16Array;
  q8_0: Uint8Array;
  q4_0: Uint8Array;
}

/** A weight [out, in] in one format: `data` is row-major (q8_0/q4_0: each row is in/32 blocks). */
export type PackedWeight = {
  [F in WeightFormat]: { readonly format: F; readonly data: WeightArrays[F]; readonly shape: readonly [number, number] };
}[WeightFormat];

/** Storage per weight, scales included: 32, 16, 16, 8.5 (34 bytes / 32) and 4.5 (18 bytes / 32). */
export function bitsPerWeight(format: WeightFormat): number {
  if (format === 'float32') return 32;
  if (format === 'bfloat16' || format === 'float16') return 16;
  return (8 * BLOCK_BYTES[format]) / QK;
}

/** The number of array elements (bytes for q8_0/q4_0) a weight of `shape` takes; refuses a bad shape. */
export function storedLength(format: WeightFormat, shape: Shape): number {
  if (format === 'q8_0' || format === 'q4_0') return blockLayout(format, shape).bytes;
  return shape.reduce((a, b) => a * b, 1);
}

/** Convert a float32 weight [out, in] to `format` (bfloat16/float16 round to nearest even; blocks as ggml). */
export function packWeight(format: WeightFormat, w: Float32Array, shape: readonly [number, number]): PackedWeight {
  if (w.length !== shape[0] * shape[1])
    throw new Error(`packWeight: shape ${fmt(shape)} needs ${shape[0] * shape[1]} values, got ${w.length}`);
  switch (format) {
    case 'float32':
      return { format, data: w, shape };
    case 'bfloat16':
      return { format, data: f32ToBf16(w), shape };
    case 'float16':
      return { format, data: f32ToF16(w), shape };
    case 'q8_0':
      return { format, data: quantizeQ8_0(w, shape), shape };
    case 'q4_0':
      return { format, data: quantizeQ4_0(w, shape), shape };
  }
}

/** Refuse a packed weight whose array length does not match its shape and format. */
export function checkPacked(fn: string, w: PackedWeight): void {
  const [rows, cols] = w.shape;
  if (w.shape.length !== 2 || !(rows >= 0) || !(cols >= 0))
    throw new Error(`${fn}: a weight is [out, in], got shape ${fmt(w.shape)}`);
  const need = storedLength(w.format, w.shape);
  if (w.data.length !== need)
    throw new Error(`${fn}: a ${w.format} weight of shape ${fmt(w.shape)} takes ${need} elements, got ${w.data.length}`);
}

/**
 * Decode row `o` of a weight to float32 in `out` (length in). Float32 rows are views, not copies: call
 * `rowReader(w)(o)` and use what it returns. Only one row is ever decoded at a time, never the weight.
 */
export function rowReader(w: PackedWeight): (o: number) => Float32Array {
  const cols = w.shape[1];
  const row = new Float32Array(cols);
  switch (w.format) {
    case 'float32': {
      const data = w.data;
      return (o) => data.subarray(o * cols, (o + 1) * cols);
    }
    case 'bfloat16': {
      const data = w.data;
      return (o) => bf16ToF32(data.subarray(o * cols, (o + 1) * cols), row);
    }
    case 'float16': {
      const data = w.data;
      return (o) => f16ToF32(data.subarray(o * cols, (o + 1) * cols), row);
    }
    case 'q8_0': {
      const data = w.data;
      return (o) => {
        dequantizeBlocksQ8_0(data, (o * cols) / QK, cols / QK, row);
        return row;
      };
    }
    case 'q4_0': {
      const data = w.data;
      return (o) => {
        dequantizeBlocksQ4_0(data, (o * cols) / QK, cols / QK, row);
        return row;
      };
    }
  }
}

/** The whole weight as float32 (a conversion on request, e.g. `.to('float32')`, and the tests' oracle input). */
export function unpackWeight(w: PackedWeight): Float32Array {
  checkPacked('unpackWeight', w);
  const [rows, cols] = w.shape;
  const out = new Float32Array(rows * cols);
  const read = rowReader(w);
  for (let o = 0; o < rows; o++) out.set(read(o), o * cols);
  return out;
}
