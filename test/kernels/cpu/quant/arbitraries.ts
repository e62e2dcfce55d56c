// fast-check generators shared by the quant tests: weight rows as float32 values, whole blocks of mixed
// magnitude (so each block has its own scale, from subnormal to large), and small float32 matrices.

import fc from 'fast-check';

const LIMIT = Math.fround(1e4);

/** One float32 value: signed zeros, subnormals and everything up to ±1e4 (within both formats' range). */
export const weightValue = fc.float({ min: -LIMIT, max: LIMIT, noNaN: true });

/** 32 values times a per-block power of two: blocks range from 2^-40·1e4 to 2^5·1e4 (under q4_0's limit, 524,032). */
const block = fc
  .tuple(fc.array(weightValue, { minLength: 32, maxLength: 32 }), fc.integer({ min: -40, max: 5 }))
  .map(([v, e]) => v.map((x) => Math.fround(x * 2 ** e)));

/** A weight [rows, cols] with cols a multiple of 32: its values and its shape. */
export const blockedWeight = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
  .chain(([rows, blocksPerRow]) =>
    fc.array(block, { minLength: rows * blocksPerRow, maxLength: rows * blocksPerRow }).map((blocks) => ({
      x: Float32Array.from(blocks.flat()),
      shape: [rows, blocksPerRow * 32] as [number, number],
    })),
  );

/** float32 bit patterns reinterpreted as numbers, NaN payloads included (as a checkpoint may hold). */
export const float32Bits = fc.integer({ min: 0, max: 0xffffffff });

/** The float32 value of a bit pattern. */
export function floatOfBits(u: number): number {
  const f = new Float32Array(new Uint32Array([u]).buffer);
  return f[0]!;
}

/** The bit pattern of a float32 value. */
export function bitsOfFloat(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}
