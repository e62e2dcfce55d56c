// The bulk bfloat16/float16 ↔ float32 conversions, bit for bit: widening against the loader's per-element
// decoders for all 65,536 patterns, narrowing against the writer's encoders and an independent nearest-value
// search (ties, signed zeros, subnormals, the overflow and underflow boundaries) on fast-check floats.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../../core/testing/index.js';
import { bf16ToF32, f32ToBf16 } from '../../../../kernels/cpu/quant/bfloat16.js';
import { f16ToF32, f32ToF16, halfOf, valueOfHalf } from '../../../../kernels/cpu/quant/float16.js';
import { bf16ToFloat, halfToFloat } from '../../../../model/io/safetensors_read.js';
import { floatToBf16, floatToHalf } from '../../../../model/io/safetensors_write.js';
import { bitsOfFloat, float32Bits, floatOfBits } from './arbitraries.js';

const ALL = Uint16Array.from({ length: 65536 }, (_, h) => h);
const isNaNHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isNaNBf16 = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

/** The correctly rounded half of a float32 value, found by search over the half values (no bit tricks). */
function nearestHalf(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 lies halfway between the largest half (65504) and 2^16; the tie goes to the even pattern, inf.
  if (a >= 65520) return sign | 0x7c00;
  // The non-negative finite patterns 0 … 0x7bff increase with their value: find the last one ≤ a.
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfToFloat(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0x7bff) return sign | lo;
  // Compare 2a with the sum of the two neighbours: both exact in a double, so the tie is seen exactly.
  const twice = 2 * a;
  const mid = halfToFloat(lo) + halfToFloat(lo + 1);
  if (twice < mid) return sign | lo;
  if (twice > mid) return sign | (lo + 1);
  return sign | (lo & 1 ? lo + 1 : lo);
}

describe('bfloat16', () => {
  it('bf16ToF32 equals the loader’s decoder on all 65,536 patterns, and is the pattern shifted up 16 bits', () => {
    const out = bf16ToF32(ALL);
    const bits = new Uint32Array(out.buffer);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const same = isNaNBf16(h) ? Number.isNaN(bf16ToFloat(h)) : Object.is(out[h], bf16ToFloat(h));
      if (bits[h] !== (h << 16) >>> 0 || !same) wrong.push(`${h.toString(16)} → ${out[h]}`);
    }
    expect(wrong).toEqual([]);
  });

  it('f32ToBf16 of every bfloat16 value gives the pattern back (a NaN comes back quiet)', () => {
    const back = f32ToBf16(bf16ToF32(ALL));
    const wrong = Array.from(ALL).filter((h) => back[h] !== (isNaNBf16(h) ? h | 0x40 : h));
    expect(wrong).toEqual([]);
  });

  it('rounds to nearest even on hand-worked ties and at the top of the range', () => {
    // 1 + 2^-8 is halfway between bf16 1 (0x3f80, even) and 1 + 2^-7 (0x3f81): down to the even one;
    // 1 + 3·2^-8 is halfway between 0x3f81 and 0x3f82 (even): up. One float ulp above a tie rounds up.
    const x = [0x3f808000, 0x3f818000, 0x3f808001, 0xbf808000, 0x7f7fffff, 0x7f7f7fff, 0x00008000, 0x80018000];
    const want = [0x3f80, 0x3f82, 0x3f81, 0xbf80, 0x7f80, 0x7f7f, 0x0000, 0x8002];
    const got = f32ToBf16(new Float32Array(Uint32Array.from(x).buffer));
    expect(Array.from(got)).toEqual(want);
  });

  it('f32ToBf16 equals the writer’s encoder on float32 bit patterns, NaN payloads kept quiet', () => {
    checkProperty(
      fc.array(float32Bits, { minLength: 1, maxLength: 64 }),
      (us) => {
        const got = f32ToBf16(new Float32Array(Uint32Array.from(us).buffer));
        us.forEach((u, i) => {
          // A JS number cannot carry a NaN's payload, so NaN patterns are checked against ggml's rule itself.
          const want = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : floatToBf16(floatOfBits(u));
          expect(got[i], `bits ${u.toString(16)}`).toBe(want);
        });
      },
      200,
    );
  });
});

describe('float16', () => {
  it('f16ToF32 equals the loader’s decoder on all 65,536 patterns (subnormals, ±0, ±inf; NaN keeps its payload)', () => {
    const out = f16ToF32(ALL);
    const bits = new Uint32Array(out.buffer);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const nanBits = (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0;
      const same = isNaNHalf(h)
        ? Number.isNaN(halfToFloat(h)) && bits[h] === nanBits && Number.isNaN(valueOfHalf(h))
        : Object.is(out[h], halfToFloat(h)) && Object.is(valueOfHalf(h), halfToFloat(h));
      if (!same) wrong.push(`${h.toString(16)} → ${out[h]}, expected ${halfToFloat(h)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('f32ToF16 of every half value gives the pattern back; NaN becomes the quiet NaN with its sign', () => {
    const back = f32ToF16(f16ToF32(ALL));
    const wrong = Array.from(ALL).filter((h) => back[h] !== (isNaNHalf(h) ? (h & 0x8000) | 0x7e00 : h));
    expect(wrong).toEqual([]);
  });

  it('rounds every tie between neighbouring halves to the even one, and the float32 next to a tie to the nearer', () => {
    // For every pair of neighbouring finite halves (both signs): the midpoint (exact in float32) and the
    // float32 values one ulp either side of it — the cases where a wrong shift or carry shows.
    const xs: number[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const mid = bitsOfFloat((halfToFloat(h) + halfToFloat(h + 1)) / 2);
      for (const u of [mid - 1, mid, mid + 1]) xs.push(floatOfBits(u), -floatOfBits(u));
    }
    const got = f32ToF16(Float32Array.from(xs));
    const wrong = xs.filter((x, i) => got[i] !== nearestHalf(x) || got[i] !== floatToHalf(x));
    expect(wrong).toEqual([]);
  });

  it('handles the overflow and underflow boundaries', () => {
    const cases: [number, number][] = [
      [65504, 0x7bff], // the largest half
      [floatOfBits(0x477fefff), 0x7bff], // just below 65520: down to 65504
      [65520, 0x7c00], // the tie above 65504 goes to the even pattern, inf
      [-65520, 0xfc00],
      [1e30, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // the smallest normal
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -25, 0x0000], // half of it: the tie goes to the even 0
      [floatOfBits(0x33000001), 0x0001], // one float32 ulp above: up
      [-(2 ** -25), 0x8000],
      [3 * 2 ** -25, 0x0002], // 1.5 subnormal ulps: a tie, up to the even 2
      [floatOfBits(0x387fffff), 0x0400], // just below 2^-14: the subnormal rounds up into the smallest normal
      [1e-45, 0x0000], // a float32 subnormal
      [-0, 0x8000],
    ];
    const got = f32ToF16(Float32Array.from(cases.map((c) => c[0])));
    expect(Array.from(got).map((h) => h.toString(16))).toEqual(cases.map((c) => c[1].toString(16)));
    expect(halfOf(65520)).toBe(0x7c00);
  });

  it('f32ToF16 equals the nearest-half search and the writer’s encoder on fast-check floats', () => {
    checkProperty(
      fc.array(
        fc.oneof(
          fc.float(),
          fc.float({ min: -70000, max: 70000 }),
          fc.float({ min: Math.fround(-1e-4), max: Math.fround(1e-4) }),
        ),
        {
          minLength: 1,
          maxLength: 64,
        },
      ),
      (xs) => {
        const got = f32ToF16(Float32Array.from(xs));
        xs.forEach((x, i) => {
          const want = Number.isNaN(x) ? 0x7e00 : nearestHalf(x);
          expect(got[i], `x = ${x}`).toBe(want);
          expect(got[i], `x = ${x} (writer)`).toBe(floatToHalf(x));
          expect(halfOf(x)).toBe(want);
        });
      },
      300,
    );
  });

  it('refuses an output of the wrong length', () => {
    expect(() => f16ToF32(ALL, new Float32Array(3))).toThrow(/f16ToF32: the output holds 3 elements, the input 65536/);
    expect(() => f32ToBf16(new Float32Array(2), new Uint16Array(1))).toThrow(/f32ToBf16/);
  });
});
