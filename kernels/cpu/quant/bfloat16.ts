// bfloat16 ↔ float32 over whole arrays. A bfloat16 is the top half of a float32, so widening is one shift
// per element and narrowing one add-and-shift (round to nearest even), both through Uint32 views of the
// float storage: no DataView, no allocation per element. Bit for bit as ggml's ggml_compute_bf16_to_fp32 /
// ggml_compute_fp32_to_bf16 (and PyTorch's). Views use the host byte order: little-endian wherever Node runs.

/** Widen bfloat16 bit patterns to float32: each pattern becomes the high 16 bits of the float's bits. */
export function bf16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  checkSameLength('bf16ToF32', src.length, out.length);
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

/** Narrow float32 to bfloat16 bit patterns, rounding to nearest even; a NaN stays a (quiet) NaN. */
export function f32ToBf16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkSameLength('f32ToBf16', src.length, out.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = bf16BitsOf(bits[i]!);
  return out;
}

/** One float32 bit pattern (as an unsigned number) → its bfloat16 bit pattern. */
export function bf16BitsOf(u: number): number {
  // A NaN's payload may sit only in the low half: rounding could turn it into ±inf, so keep the top half
  // and set the quiet bit instead (as ggml does).
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  // Adding 0x7fff (+1 when the kept half is odd) carries into the kept half exactly when the dropped half is
  // above one half (or equal to it and the kept half is odd): round to nearest, ties to even. A carry out
  // of the mantissa bumps the exponent, which is right (the largest finite floats round to ±inf).
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function checkSameLength(fn: string, n: number, m: number): void {
  if (n !== m) throw new Error(`${fn}: the output holds ${m} elements, the input ${n}`);
}
