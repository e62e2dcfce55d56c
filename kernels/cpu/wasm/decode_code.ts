// The instructions the decode (matrix-vector) kernels need beyond code.ts's: integer loads of 8/16-bit
// storage, bitwise v128 operations, lane widening (i8 → i16 → i32) and int → float conversion, and the
// float16 → float32 conversion built from them. A subclass, so code.ts stays the GEMM's small set.

import { Code, type Local } from './code.js';
import { u32 } from './emitter.js';

const SIMD = {
  i32x4Splat: 0x11,
  v128And: 0x4e,
  v128Or: 0x50,
  i8x16Sub: 0x71,
  i16x8ExtendLowI8x16S: 0x87,
  i16x8ExtendHighI8x16S: 0x88,
  i32x4GtS: 0x3b,
  i32x4ExtendLowI16x8S: 0xa7,
  i32x4ExtendHighI16x8S: 0xa8,
  i32x4ShrU: 0xad,
  f32x4ConvertI32x4S: 0xfa,
} as const;

const OP = { i32Load16U: 0x2f, f32ReinterpretI32: 0xbe, i32Or: 0x72 } as const;

export class DecodeCode extends Code {
  /** Loads an unsigned 16-bit value (a bfloat16/float16 pattern or a block's scale) as an i32. */
  i32Load16U(offset = 0): this {
    return this.emit(OP.i32Load16U, 1, ...u32(offset));
  }
  /** The i32's bits read as an f32 (no conversion). */
  f32ReinterpretI32(): this {
    return this.emit(OP.f32ReinterpretI32);
  }
  i32Or(): this {
    return this.emit(OP.i32Or);
  }
  i32x4Splat(): this {
    return this.simd(SIMD.i32x4Splat);
  }
  v128And(): this {
    return this.simd(SIMD.v128And);
  }
  v128Or(): this {
    return this.simd(SIMD.v128Or);
  }
  /** Pops a, b; sixteen byte lanes a − b (wrapping). */
  i8x16Sub(): this {
    return this.simd(SIMD.i8x16Sub);
  }
  /** Bytes 0–7 (low) or 8–15 (high), sign-extended to eight i16 lanes. */
  i16x8ExtendLowI8x16S(): this {
    return this.simd(SIMD.i16x8ExtendLowI8x16S);
  }
  i16x8ExtendHighI8x16S(): this {
    return this.simd(SIMD.i16x8ExtendHighI8x16S);
  }
  /** i16 lanes 0–3 (low) or 4–7 (high), sign-extended to four i32 lanes. */
  i32x4ExtendLowI16x8S(): this {
    return this.simd(SIMD.i32x4ExtendLowI16x8S);
  }
  i32x4ExtendHighI16x8S(): this {
    return this.simd(SIMD.i32x4ExtendHighI16x8S);
  }
  /** Pops a, b; per lane a > b (signed) ? all ones : 0. */
  i32x4GtS(): this {
    return this.simd(SIMD.i32x4GtS);
  }
  /** Pops a v128 and an i32 shift count; logical shift right per i32 lane. */
  i32x4ShrU(): this {
    return this.simd(SIMD.i32x4ShrU);
  }
  f32x4ConvertI32x4S(): this {
    return this.simd(SIMD.f32x4ConvertI32x4S);
  }

  /**
   * Pops a v128 of four float16 patterns, already moved to bits 13–27 of each i32 lane with the rest
   * cleared (`(h & 0x7fff) << 13`), and pushes them as float32, given the sign bits in `sign` (bit 31).
   * As F16C does, branch-free (after Giesen's half_to_float_SSE2): the shifted bits read as a float32
   * are the half's value times 2^-112 — for subnormal halves too, as float32 denormals — so one
   * multiply by 2^112 rebiases every finite half exactly; halves above 65504 (inf, NaN) then get the
   * all-ones exponent ORed in, keeping a NaN's payload. Measured against a lookup table read by scalar
   * loads (SIMD has no gather): 7.1 against 4.3 GB/s of float16 weights on one core.
   */
  f16BitsToF32(shifted: Local, sign: Local): this {
    this.get(shifted)
      .f32x4Const(2 ** 112)
      .f32x4Mul();
    this.get(shifted)
      .i32x4Const(0x7bff << 13)
      .i32x4GtS()
      .i32x4Const(0x7f800000)
      .v128And()
      .v128Or();
    return this.get(sign).v128Or();
  }
}
