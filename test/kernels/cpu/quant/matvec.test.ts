// The reference matrix-vector / few-row product for every weight format: on a quantized or 16-bit weight
// it equals the float32 product on the dequantized weight (fast-check, to float32 rounding); on a
// hand-worked float32 case it is exact. Also the formats' sizes (8.5 and 4.5 bits per weight) and refusals.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../../core/testing/index.js';
import { bf16ToF32, f32ToBf16 } from '../../../../kernels/cpu/quant/bfloat16.js';
import { f16ToF32, f32ToF16 } from '../../../../kernels/cpu/quant/float16.js';
import {
  bitsPerWeight,
  packWeight,
  storedLength,
  unpackWeight,
  WEIGHT_FORMATS,
  type PackedWeight,
} from '../../../../kernels/cpu/quant/formats.js';
import { matvecReference } from '../../../../kernels/cpu/quant/matvec.js';
import { dequantizeQ4_0, quantizeQ4_0 } from '../../../../kernels/cpu/quant/q4_0.js';
import { dequantizeQ8_0, quantizeQ8_0 } from '../../../../kernels/cpu/quant/q8_0.js';
import { blockedWeight, weightValue } from './arbitraries.js';

/** The whole weight as float32, each format through its bulk decoder (not the row reader under test). */
function dequantized(w: PackedWeight): Float32Array {
  switch (w.format) {
    case 'float32':
      return w.data;
    case 'bfloat16':
      return bf16ToF32(w.data);
    case 'float16':
      return f16ToF32(w.data);
    case 'q8_0':
      return dequantizeQ8_0(w.data, w.shape);
    case 'q4_0':
      return dequantizeQ4_0(w.data, w.shape);
  }
}

/** The plain float32 product, accumulating in float32 as a fast kernel does, and Σ|x·w| for the tolerance. */
function floatProduct(x: Float32Array, rows: number, w: Float32Array, [outDim, inDim]: readonly [number, number]) {
  const y = new Float32Array(rows * outDim);
  const mag = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outDim; o++) {
      let acc = 0;
      for (let i = 0; i < inDim; i++) {
        const p = x[r * inDim + i]! * w[o * inDim + i]!;
        acc = Math.fround(acc + Math.fround(p));
        mag[r * outDim + o]! += Math.abs(p);
      }
      y[r * outDim + o] = acc;
    }
  return { y, mag };
}

const case_ = fc.record({
  weight: blockedWeight,
  rows: fc.integer({ min: 1, max: 4 }),
  seed: fc.array(weightValue, { minLength: 1, maxLength: 8 }),
});

describe('matvecReference', () => {
  it('is exact on a hand-worked float32 case, one row and a few', () => {
    const w: PackedWeight = { format: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] };
    expect(Array.from(matvecReference(Float32Array.from([1, 0, -1]), 1, w))).toEqual([-2, -2]);
    // The second row [0.5, 2, 1]: 0.5·1 + 2·2 + 1·3 = 7.5 and 0.5·4 + 2·5 + 1·6 = 18.
    expect(Array.from(matvecReference(Float32Array.from([1, 0, -1, 0.5, 2, 1]), 2, w))).toEqual([-2, -2, 7.5, 18]);
  });

  for (const format of WEIGHT_FORMATS) {
    it(`${format}: equals the float32 product on the dequantized weight (1–4 rows)`, () => {
      checkProperty(
        case_,
        ({ weight, rows, seed }) => {
          // float16 tops out at 65504: its weights are scaled by 2^-5 (exactly) into range, as a checkpoint's are.
          const values = format === 'float16' ? weight.x.map((v) => v / 32) : weight.x;
          const w = packWeight(format, values, weight.shape);
          const [outDim, inDim] = weight.shape;
          const x = Float32Array.from({ length: rows * inDim }, (_, i) => seed[i % seed.length]! * Math.sin(i + 1));
          const dense = dequantized(w);
          // The row reader decodes each row as the bulk decoders do, so unpacking gives the same weight.
          expect(Array.from(unpackWeight(w))).toEqual(Array.from(dense));
          const got = matvecReference(x, rows, w);
          const { y, mag } = floatProduct(x, rows, dense, weight.shape);
          for (let k = 0; k < rows * outDim; k++) {
            // A float32 sum of n products is within about n·2^-24·Σ|x·w| of the exact one (and so of the
            // double-accumulated reference); the smallest subnormal covers products that underflow.
            const tol = (inDim + 2) * 2 ** -24 * mag[k]! + 2 ** -126;
            const err = Math.abs(got[k]! - y[k]!);
            if (!(err <= tol))
              expect(err, `output ${k} of ${format} [${outDim},${inDim}], ${rows} rows`).toBeLessThanOrEqual(tol);
          }
        },
        40,
      );
    });
  }

  it('packs each format from float32 as its converter does, and reads only its own size', () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const converted = {
      float32: x,
      bfloat16: f32ToBf16(x),
      float16: f32ToF16(x),
      q8_0: quantizeQ8_0(x, [2, 32]),
      q4_0: quantizeQ4_0(x, [2, 32]),
    };
    for (const format of WEIGHT_FORMATS) {
      const w = packWeight(format, x, [2, 32]);
      expect(w.format).toBe(format);
      expect(Array.from(w.data), format).toEqual(Array.from(converted[format]));
      expect(w.data.length).toBe(storedLength(format, [2, 32]));
    }
    expect(storedLength('q8_0', [4096, 14336])).toBe(4096 * (14336 / 32) * 34);
    expect(storedLength('q4_0', [4096, 14336])).toBe(4096 * (14336 / 32) * 18);
    expect(WEIGHT_FORMATS.map(bitsPerWeight)).toEqual([32, 16, 16, 8.5, 4.5]);
  });

  it('refuses a weight whose array does not match its shape, an x of the wrong length, and an unblockable shape', () => {
    const w = packWeight('q8_0', new Float32Array(64), [2, 32]);
    expect(() => matvecReference(new Float32Array(31), 1, w)).toThrow(
      /matvecReference: x has 31 values, expected rows·in = 1·32/,
    );
    expect(() => matvecReference(new Float32Array(32), 1, { ...w, shape: [3, 32] })).toThrow(
      /matvecReference: a q8_0 weight of shape \[3,32\] takes 102 elements, got 68/,
    );
    expect(() => matvecReference(new Float32Array(32), 1, w, new Float32Array(3))).toThrow(/the output holds 3 values/);
    expect(() => packWeight('q4_0', new Float32Array(40), [1, 40])).toThrow(/q4_0: .* got shape \[1,40\]/);
    expect(() => packWeight('bfloat16', new Float32Array(40), [1, 41])).toThrow(
      /packWeight: shape \[1,41\] needs 41 values, got 40/,
    );
  });
});
