// ggml's q4_0 blocks, byte for byte on hand-worked cases (the expected bytes derived by hand from
// quantize_row_q4_0_ref: d = max/−8 for the signed value of largest magnitude, codes = min(15,
// trunc(x/d + 8.5)), low nibbles elements 0–15, high nibbles 16–31), the error bound, and the refusals.

import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../../core/testing/index.js';
import { halfOf, valueOfHalf } from '../../../../kernels/cpu/quant/float16.js';
import { dequantizeQ4_0, quantizeQ4_0 } from '../../../../kernels/cpu/quant/q4_0.js';
import { blockedWeight } from './arbitraries.js';

/** A block of 32 from its first half's leading values and its second half's leading values (zeros after). */
const block = (lo: number[], hi: number[] = []) =>
  Float32Array.from({ length: 32 }, (_, j) => (j < 16 ? lo[j] : hi[j - 16]) ?? 0);
/** Expected block bytes: the float16 scale (little-endian), then the 16 given bytes, padded with `pad`. */
const bytes = (scale: number, qs: number[], pad: number) => [
  scale & 0xff,
  scale >>> 8,
  ...Array.from({ length: 16 }, (_, j) => qs[j] ?? pad),
];
const quant = (x: Float32Array) => Array.from(quantizeQ4_0(x, [1, x.length]));
/** quant then dequant, with −0 read as 0 (+ 0) so that toEqual compares values. */
const dequant = (x: Float32Array) => Array.from(dequantizeQ4_0(quantizeQ4_0(x, [1, x.length]), [1, x.length]), (v) => v + 0);

describe('q4_0', () => {
  it('all zeros: d = 0/−8 = −0 (stored as the float16 0x8000), every code 8 (0 + 8.5 truncated)', () => {
    expect(quant(block([]))).toEqual(bytes(0x8000, [], 0x88));
    expect(dequant(block([]))).toEqual(Array(32).fill(0));
  });

  it('all equal and positive: d = 2/−8 = −0.25 (0xb400), every code 0 (−8 + 8.5 → 0)', () => {
    const x = block(Array(16).fill(2), Array(16).fill(2));
    expect(quant(x)).toEqual(bytes(0xb400, [], 0x00));
    expect(dequant(x)).toEqual(Array(32).fill(2));
  });

  it('all equal and negative: d = −3/−8 = 0.375 (0x3600), every code 0', () => {
    const x = block(Array(16).fill(-3), Array(16).fill(-3));
    expect(quant(x)).toEqual(bytes(0x3600, [], 0x00));
    expect(dequant(x)).toEqual(Array(32).fill(-3));
  });

  it('the largest value negative: d = 1; ties at .5 go up, 8 (16.5) and 7.5 (16) clamp to 15; nibble order', () => {
    // max = −8 (the 8 at element 4 has the same magnitude but comes later), d = −8/−8 = 1 (0x3c00), id = 1.
    // Element → x + 8.5 → code: −8 → 0.5 → 0; 7 → 15.5 → 15; 7.25 → 15; 7.5 → 16 → 15; 8 → 16.5 → 15;
    // −7.5 → 1; 0.5 → 9; −0.5 → 8; 3.2 → 11.7 → 11; −7.6 → 0.9 → 0; zeros → 8.
    // Elements 16…: 1 → 9; 2 → 10; −1 → 7; 4.5 → 13; zeros → 8. Byte j = code[j] | code[j + 16] << 4.
    const x = block([-8, 7, 7.25, 7.5, 8, -7.5, 0.5, -0.5, 3.2, -7.6], [1, 2, -1, 4.5]);
    expect(quant(x)).toEqual(bytes(0x3c00, [0x90, 0xaf, 0x7f, 0xdf, 0x8f, 0x81, 0x89, 0x88, 0x8b, 0x80], 0x88));
    // Back: (code − 8)·1 — the clamped values read back as 7, a whole d away from 8.
    expect(dequant(x).slice(0, 10)).toEqual([-8, 7, 7, 7, 7, -7, 1, 0, 3, -8]);
    expect(dequant(x).slice(16, 21)).toEqual([1, 2, -1, 5, 0]);
  });

  it('the largest value positive: d = −1 (0xbc00), so the signs flip; the first of ±8 decides', () => {
    // max = 8 (first), d = −1, id = −1: 8 → 0.5 → 0; −8 → 16.5 → 15; 4 → 4.5 → 4; −4 → 12.5 → 12.
    const x = block([8, -8, 4, -4]);
    expect(quant(x)).toEqual(bytes(0xbc00, [0x80, 0x8f, 0x84, 0x8c], 0x88));
    expect(dequant(x).slice(0, 4)).toEqual([8, -7, 4, -4]);
    // The same values with −8 first: max = −8, d = +1, and now the 8 is the one clamped.
    expect(quant(block([-8, 8, 4, -4]))).toEqual(bytes(0x3c00, [0x80, 0x8f, 0x8c, 0x84], 0x88));
  });

  it('the float32 steps decide the code: x/d + 8.5 and 1/d are each rounded to float32 before truncating', () => {
    // d = 1: 0.5 − 2^-25 + 8.5 = 9 − 2^-25, which float32 (spacing 2^-20 in [8, 16)) rounds to 9 → code 9,
    // where truncating the exact sum would give 8; −0.5 − 2^-24 + 8.5 = 8 − 2^-24 rounds to 8 → code 8.
    const codes = (x: Float32Array) => Array.from(quantizeQ4_0(x, [1, 32]).subarray(2, 4), (b) => b & 0x0f);
    expect(codes(block([-8, 0.5 - 2 ** -25]))).toEqual([0, 9]);
    expect(codes(block([-8, -0.5 - 2 ** -24]))).toEqual([0, 8]);
    // max = −0.75: d = 3/32 exactly, 1/d = fround(32/3) = 10.666667 (above 32/3). For x = −(3.5·d + 2^-25),
    // x·(1/d) = −3.50000048 in float32, + 8.5 = 4.99999952 → code 4. The exact 1/d would give −3.50000024,
    // + 8.5 = 4.99999976, a tie that rounds to the even 5 → code 5.
    expect(codes(block([-0.75, -(0.328125 + 2 ** -25)]))).toEqual([0, 4]);
    // And x = −7.5·d = −0.703125: x·(1/d) = −7.50000022 rounds to float32 −7.5, + 8.5 = 1 → code 1; the
    // product left unrounded would give 0.99999978 → code 0.
    expect(codes(block([-0.75, -0.703125]))).toEqual([0, 1]);
  });

  it('stores rows of blocks back to back in row-major order, each with its own scale', () => {
    const blocks = [0, 1, 2, 3].map((k) => block([-8 * 2 ** k]));
    const x = Float32Array.from(blocks.flatMap((b) => Array.from(b)));
    const q = Array.from(quantizeQ4_0(x, [2, 64]));
    expect(q).toEqual([0x3c00, 0x4000, 0x4400, 0x4800].flatMap((s) => bytes(s, [0x80], 0x88)));
  });

  it('dequant(quant(x)) is within |d|/2 + 8·|d − d16| of x, and |d| where x/d > 7.5 is clamped to 7', () => {
    checkProperty(
      blockedWeight,
      ({ x, shape }) => {
        const back = dequantizeQ4_0(quantizeQ4_0(x, shape), shape);
        for (let b = 0; b < x.length / 32; b++) {
          let amax = 0;
          let max = 0;
          for (let j = 0; j < 32; j++) {
            const v = x[32 * b + j]!;
            if (amax < Math.abs(v)) [amax, max] = [Math.abs(v), v];
          }
          const d = Math.fround(max / -8);
          const d16 = valueOfHalf(halfOf(d));
          for (let j = 0; j < 32; j++) {
            const v = x[32 * b + j]!;
            const clamped = d !== 0 && v / d > 7.5;
            const bound = Math.abs(d) * (clamped ? 1 : 0.5) + 8 * Math.abs(d - d16) + amax * 2 ** -20;
            const err = Math.abs(v - back[32 * b + j]!);
            if (!(err <= bound)) expect(err, `block ${b}, element ${j}: x = ${v}, d = ${d}`).toBeLessThanOrEqual(bound);
          }
        }
      },
      100,
    );
  });

  it('refuses a row length that is not a multiple of 32, a bad byte count, NaN, and a scale beyond float16', () => {
    expect(() => quantizeQ4_0(new Float32Array(48), [48])).toThrow(/q4_0: a row's length .* multiple of 32: got shape \[48\]/);
    expect(() => dequantizeQ4_0(new Uint8Array(34), [1, 32])).toThrow(/q4_0: shape \[1,32\] takes 18 bytes/);
    const x = new Float32Array(32);
    x[3] = NaN;
    expect(() => quantizeQ4_0(x, [1, 32])).toThrow(/q4_0: cannot quantize shape \[1,32\]: NaN at row 0, column 3/);
    // 65504·8 = 524,032: a larger magnitude needs a scale the float16 cannot hold.
    x[3] = -530000;
    expect(() => quantizeQ4_0(x, [1, 32])).toThrow(/needs a scale .* beyond float16's largest, 65504/);
    x[3] = -520000;
    expect(quantizeQ4_0(x, [1, 32]).length).toBe(18);
  });
});
