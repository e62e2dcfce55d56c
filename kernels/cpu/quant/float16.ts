// IEEE half (float16) ↔ float32 over whole arrays, with subnormals, ±inf and NaN, rounding to nearest even
// on the way down — the conversions of ggml's GGML_FP16_TO_FP32 / GGML_FP32_TO_FP16. Widening looks each
// pattern up in a 65,536-entry table of float32 bit patterns (ggml keeps the same table); narrowing works on
// the float's bits through a Uint32 view. No DataView, no allocation per element.

import { checkSameLength } from './bfloat16.js';

/** One half bit pattern → the float32 bit pattern of the same value (exact: every half is a float32). */
export function f32BitsOfHalf(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  // ±inf and NaN: the float's exponent is all ones too, and a NaN keeps its payload (as F16C and NEON do).
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  // Normal: rebias the exponent from 15 to 127 (add 112) and left-align the 10 mantissa bits in 23.
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half, mant·2^-24: a normal float32. Shift the leading one up to bit 10 (it becomes the
  // implicit bit) and lower the exponent by the shift.
  const shift = Math.clz32(mant) - 21;
  return (sign | ((113 - shift) << 23) | (((mant << shift) & 0x3ff) << 13)) >>> 0;
}

/** One float32 bit pattern (as an unsigned number) → its half bit pattern, rounded to nearest even. */
export function halfBitsOf(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  // NaN → the quiet NaN 0x7e00 with the sign kept: ggml's portable conversion (the payload is dropped).
  if (a > 0x7f800000) return sign | 0x7e00;
  // From 65520 (halfway between the largest half, 65504, and 2^16; the tie goes to the even pattern, inf)
  // up to inf itself, the result is ±inf.
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a >= 0x38800000) {
    // A normal half (≥ 2^-14): rebias the exponent (subtract 112) and keep the top 10 mantissa bits,
    // rounding on the 13 dropped ones. A carry out of the mantissa bumps the exponent, which is right.
    const h = (a - 0x38000000) >>> 13;
    const rest = a & 0x1fff;
    return sign | (h + (rest > 0x1000 || (rest === 0x1000 && h & 1) ? 1 : 0));
  }
  // Below 2^-25, half of the smallest subnormal (and at it: the tie goes to the even 0), the result is ±0.
  if (a <= 0x33000000) return sign;
  // A subnormal half m·2^-24: m is the 24-bit significand shifted right by (126 − exponent), 14…23 places,
  // rounded on the bits shifted out. m = 1024 carries into the smallest normal, which is right.
  const significand = (a & 0x7fffff) | 0x800000;
  const shift = 126 - (a >>> 23);
  const m = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (m + (rest > half || (rest === half && m & 1) ? 1 : 0));
}

let table: Uint32Array | undefined;

/** The float32 bit pattern of every half, built once on first use (256 KiB). */
function halfTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = f32BitsOfHalf(h);
  return table;
}

/** Widen half bit patterns to float32. */
export function f16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  checkSameLength('f16ToF32', src.length, out.length);
  const t = halfTable();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]!]!;
  return out;
}

/** Narrow float32 to half bit patterns: round to nearest even, overflow → ±inf, NaN → quiet NaN. */
export function f32ToF16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkSameLength('f32ToF16', src.length, out.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfBitsOf(bits[i]!);
  return out;
}

// One-element scratch views for the scalar forms below (a block's scale): no allocation per call.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** A number, rounded to float32, → its half bit pattern. */
export function halfOf(x: number): number {
  scratchF32[0] = x;
  return halfBitsOf(scratchU32[0]!);
}

/** A half bit pattern → its value. */
export function valueOfHalf(h: number): number {
  scratchU32[0] = halfTable()[h & 0xffff]!;
  return scratchF32[0]!;
}
