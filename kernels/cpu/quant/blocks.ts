// What ggml's two block formats share: 32 weights along a row per block, a float16 scale d in the block's
// first two bytes (little-endian), blocks stored back to back in row-major order (row r holds blocks
// r·cols/32 … (r+1)·cols/32 − 1). The checks that refuse a weight before any memory is allocated live here.

import { fmt, sizeOf, type Shape } from '../../../core/shape.js';
import { halfOf, valueOfHalf } from './float16.js';

export type BlockFormat = 'q8_0' | 'q4_0';

/** Weights per block (ggml's QK8_0 and QK4_0). */
export const QK = 32;

/** Bytes per block: the float16 scale, then 32 int8 codes (q8_0) or 16 bytes of nibbles (q4_0). */
export const BLOCK_BYTES: Readonly<Record<BlockFormat, number>> = { q8_0: 2 + QK, q4_0: 2 + QK / 2 };

/** Rows of a blocked weight: its leading dimensions flattened; blocks run along the last one. */
export interface BlockLayout {
  readonly rows: number;
  readonly cols: number;
  readonly blocksPerRow: number;
  readonly blocks: number;
  readonly bytes: number;
}

/** The layout of a weight of `shape` in `format`, or a clear error when its rows do not split into blocks. */
export function blockLayout(format: BlockFormat, shape: Shape): BlockLayout {
  const cols = shape[shape.length - 1] ?? 0;
  if (!(cols > 0) || cols % QK !== 0)
    throw new Error(
      `${format}: a row's length (the last dimension) must be a positive multiple of ${QK}: got shape ${fmt(shape)}`,
    );
  const rows = sizeOf(shape) / cols;
  const blocks = (rows * cols) / QK;
  return { rows, cols, blocksPerRow: cols / QK, blocks, bytes: blocks * BLOCK_BYTES[format] };
}

/** Refuse blocked bytes whose length does not match the shape they claim. */
export function checkBlockedBytes(format: BlockFormat, q: Uint8Array, shape: Shape): BlockLayout {
  const layout = blockLayout(format, shape);
  if (q.length !== layout.bytes)
    throw new Error(`${format}: shape ${fmt(shape)} takes ${layout.bytes} bytes (${layout.blocks} blocks), got ${q.length}`);
  return layout;
}

/**
 * Refuse float input that no block can hold, before allocating: a value count that does not match the
 * shape, a NaN or ±inf, or a magnitude whose scale (amax / `codeRange`) would overflow float16 (65504) —
 * ggml would store an infinite scale and every weight of that block would read back as inf or NaN.
 */
export function checkQuantizable(format: BlockFormat, x: Float32Array, shape: Shape, codeRange: number): BlockLayout {
  const layout = blockLayout(format, shape);
  if (x.length !== layout.rows * layout.cols)
    throw new Error(`${format}: shape ${fmt(shape)} has ${layout.rows * layout.cols} elements, got ${x.length} values`);
  let amax = 0;
  let at = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    // `!(a <= amax)` is also true for NaN, so a NaN is seen here rather than lost by a comparison.
    if (!(a <= amax)) {
      amax = a;
      at = i;
      if (!Number.isFinite(a)) break;
    }
  }
  const where = `at row ${Math.floor(at / layout.cols)}, column ${at % layout.cols}`;
  if (!Number.isFinite(amax)) throw new Error(`${format}: cannot quantize shape ${fmt(shape)}: ${x[at]} ${where}`);
  const d = Math.fround(amax / codeRange);
  if ((halfOf(d) & 0x7c00) === 0x7c00)
    throw new Error(
      `${format}: cannot quantize shape ${fmt(shape)}: |${x[at]}| ${where} needs a scale ${d} beyond float16's largest, 65504`,
    );
  return layout;
}

/** Store a block's float32 scale as float16 (round to nearest even) in its first two bytes. */
export function writeScale(q: Uint8Array, at: number, d: number): void {
  const h = halfOf(d);
  q[at] = h & 0xff;
  q[at + 1] = h >>> 8;
}

/** A block's scale, read back from float16. */
export function readScale(q: Uint8Array, at: number): number {
  return valueOfHalf(q[at]! | (q[at + 1]! << 8));
}
