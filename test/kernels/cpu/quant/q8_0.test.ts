// ggml's q8_0 blocks, byte for byte on hand-worked cases (the expected bytes derived by hand from
// quantize_row_q8_0_ref: d = amax/127, codes = roundf(x/d), d stored as float16), the row-major block
// order, the error bound dequant(quant(x)) keeps on fast-check rows, and the refusals.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../../core/testing/index.js';
import { halfOf, valueOfHalf } from '../../../../kernels/cpu/quant/float16.js';
import { dequantizeQ8_0, quantizeQ8_0 } from '../../../../kernels/cpu/quant/q8_0.js';
import { blockedWeight } from './arbitraries.js';

/** A block of 32: the given leading values, then zeros. */
const block = (...head: number[]) => Float32Array.from({ length: 32 }, (_, j) => head[j] ?? 0);
/** Expected block bytes: the float16 scale (little-endian), then the int8 codes as bytes, zero-padded. */
const bytes = (scale: number, ...codes: number[]) => [
  scale & 0xff,
  scale >>> 8,
  ...Array.from({ length: 32 }, (_, j) => (codes[j] ?? 0) & 0xff),
];
const quant = (x: Float32Array) => Array.from(quantizeQ8_0(x, [1, x.length]));

describe('q8_0', () => {
  it('all zeros: d = 0, codes 0 (id = 0 rather than 1/0)', () => {
    expect(quant(block())).toEqual(bytes(0x0000));
    expect(Array.from(dequantizeQ8_0(quantizeQ8_0(block(), [1, 32]), [1, 32]))).toEqual(Array(32).fill(0));
  });

  it('all equal: d = 1/127 in float32, stored as the float16 0x2008; the codes are all 127', () => {
    // 1/127 = 2^-7·(1 + 1/127): 10 mantissa bits keep 1/127·1024 = 8.06 → 8, so d16 = 2^-7·(1 + 8/1024).
    // The codes use the float32 d: 1·(1/d) = 127 → 127. Dequantized: 127·d16 = 131064·2^-17.
    const x = block(...Array(32).fill(1));
    expect(quant(x)).toEqual(bytes(0x2008, ...Array(32).fill(127)));
    expect(Array.from(dequantizeQ8_0(quantizeQ8_0(x, [1, 32]), [1, 32]))).toEqual(Array(32).fill(0.99993896484375));
  });

  it('ties at .5 go away from zero (roundf), the largest value positive', () => {
    // amax = 127 → d = 1 (float16 0x3c00), id = 1: the codes are x rounded half away from zero.
    const x = block(127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 126.5, -126.5, 0.49);
    expect(quant(x)).toEqual(bytes(0x3c00, 127, 3, -3, 1, -1, 2, -2, 127, -127, 0));
  });

  it('the largest value negative: the scale is still positive, amax/127', () => {
    // amax = 254 → d = 2 (0x4000), id = 0.5: −254 → −127, 100 → 50, ±3 → ±1.5 → ±2, ±1 → ±0.5 → ±1, 0.25 → 0.
    const x = block(-254, 100, 3, -3, 1, -1, 0.25);
    expect(quant(x)).toEqual(bytes(0x4000, -127, 50, 2, -2, 1, -1, 0));
    const back = dequantizeQ8_0(quantizeQ8_0(x, [1, 32]), [1, 32]);
    expect(Array.from(back.subarray(0, 7))).toEqual([-254, 100, 4, -4, 2, -2, 0]);
  });

  it('the float32 steps decide the code at near-ties: d, 1/d and x·(1/d) are each rounded to float32', () => {
    // (found by search over ggml's formula; each row names the float32 values it takes)
    const codes = (x: Float32Array) => Array.from(new Int8Array(quantizeQ8_0(x, [1, 32]).buffer, 2, 2));
    // amax = 11: d = fround(11/127) = 0.086614177 (above 11/127), so 1/d = 11.545454 (below 127/11), and
    // x = fround(33/254) = 0.129921257 gives x·(1/d) = 1.4999999 → 1. An unrounded d would give 1.5 → 2.
    expect(codes(block(11, Math.fround(33 / 254)))).toEqual([127, 1]);
    // amax = 3: 1/d rounds down to 42.333332 and x = fround(3/254) gives 0.49999997 → 0; the double 1/d
    // (42.3333335) would give 0.5 → 1.
    expect(codes(block(3, Math.fround(3 / 254)))).toEqual([127, 0]);
    // amax = 1/8: 1/d is exactly 1016; x = d/2 gives x·(1/d) = 0.4999999981 exactly, which float32 rounds
    // to 0.5 → 1. A double product would give 0.
    const d = Math.fround(0.125 / 127);
    expect(codes(block(0.125, d / 2))).toEqual([127, 1]);
  });

  it('stores rows of blocks back to back in row-major order, each with its own scale', () => {
    // A [2, 64] weight is four blocks: row 0 = blocks 0, 1; row 1 = blocks 2, 3. Block k has amax 127·2^k.
    const blocks = [0, 1, 2, 3].map((k) => block(127 * 2 ** k, -(2 ** k)));
    const x = Float32Array.from(blocks.flatMap((b) => Array.from(b)));
    const q = Array.from(quantizeQ8_0(x, [2, 64]));
    const scales = [0x3c00, 0x4000, 0x4400, 0x4800]; // 1, 2, 4, 8
    expect(q).toEqual(scales.flatMap((s) => bytes(s, 127, -1)));
    // A [2, 2, 32] weight has the same bytes: the leading dimensions are rows.
    expect(Array.from(quantizeQ8_0(x, [2, 2, 32]))).toEqual(q);
  });

  it('dequant(quant(x)) is within d/2 + 127·|d − d16| of x (and exact where x/d is an integer)', () => {
    checkProperty(
      blockedWeight,
      ({ x, shape }) => {
        const back = dequantizeQ8_0(quantizeQ8_0(x, shape), shape);
        for (let b = 0; b < x.length / 32; b++) {
          let amax = 0;
          for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]!));
          const d = Math.fround(amax / 127);
          const d16 = valueOfHalf(halfOf(d));
          // Beyond the rounding itself: float32 rounding of x·(1/d) and of code·d16, far below d/2.
          const bound = d / 2 + 127 * Math.abs(d - d16) + amax * 2 ** -20;
          for (let j = 0; j < 32; j++) {
            const err = Math.abs(x[32 * b + j]! - back[32 * b + j]!);
            if (!(err <= bound)) expect(err, `block ${b}, element ${j}: x = ${x[32 * b + j]}`).toBeLessThanOrEqual(bound);
          }
        }
      },
      100,
    );
  });

  it('codes are x/d rounded half away from zero, exactly, when d is a power of two', () => {
    // amax = 127·2^e makes d = 2^e exactly (a float16 for e in [−24, 15]): every x = k/2·2^e is a tie or an integer.
    checkProperty(
      fc.tuple(
        fc.integer({ min: -24, max: 15 }),
        fc.array(fc.integer({ min: -254, max: 254 }), { minLength: 31, maxLength: 31 }),
      ),
      ([e, ks]) => {
        const x = Float32Array.from([127 * 2 ** e, ...ks.map((k) => (k / 2) * 2 ** e)]);
        const codes = new Int8Array(quantizeQ8_0(x, [1, 32]).buffer, 2);
        const want = [127, ...ks.map((k) => Math.sign(k) * Math.ceil(Math.abs(k) / 2))];
        expect(Array.from(codes)).toEqual(want);
      },
      100,
    );
  });

  it('refuses a row length that is not a multiple of 32, a bad byte count, NaN and ±inf, and a scale beyond float16', () => {
    expect(() => quantizeQ8_0(new Float32Array(66), [2, 33])).toThrow(
      /q8_0: a row's length .* multiple of 32: got shape \[2,33\]/,
    );
    expect(() => quantizeQ8_0(new Float32Array(64), [1, 32])).toThrow(/q8_0: shape \[1,32\] has 32 elements, got 64 values/);
    expect(() => dequantizeQ8_0(new Uint8Array(33), [1, 32])).toThrow(/q8_0: shape \[1,32\] takes 34 bytes \(1 blocks\), got 33/);
    const x = new Float32Array(64);
    x[37] = NaN;
    expect(() => quantizeQ8_0(x, [2, 32])).toThrow(/q8_0: cannot quantize shape \[2,32\]: NaN at row 1, column 5/);
    x[37] = -Infinity;
    expect(() => quantizeQ8_0(x, [2, 32])).toThrow(/-Infinity at row 1, column 5/);
    // 65504·127 = 8,318,008 is the largest amax whose scale is a finite half (up to the rounding of d).
    x[37] = 8.4e6;
    expect(() => quantizeQ8_0(x, [2, 32])).toThrow(/needs a scale .* beyond float16's largest, 65504/);
    x[37] = 8.3e6;
    expect(quantizeQ8_0(x, [2, 32]).length).toBe(68);
  });
});
