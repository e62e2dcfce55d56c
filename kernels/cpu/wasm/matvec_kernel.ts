// The WebAssembly SIMD decode kernels, generated with decode_code.ts: y[r, o] = Σ_i x[r, i]·W[o, i] for
// R = 1…8 rows of x and a weight stored as float32, bfloat16, float16, q8_0 or q4_0, decoded to float32
// inside the loop and accumulated in float32 lanes. One function per (format, R); it knows nothing of
// threads or arenas (matvec.ts splits the output rows and lays x out as STEP describes).

import { F32, I32, V128, type Local } from './code.js';
import { DecodeCode } from './decode_code.js';
import type { FunctionDef } from './emitter.js';
import type { WeightFormat } from '../quant/formats.js';

/**
 * Per format: weight values per step, the step's bytes, and the order x is packed in within a step.
 * x arrives packed by the caller one step of the weight row at a time (8 values, or a block of 32):
 * [step s][row r][the step's values], then a tail [row r][8 slots] for the last in mod 8 values of the
 * float formats, so every x load is one pointer plus a constant offset. bfloat16 and float16 steps hold
 * x de-interleaved (x0 x2 x4 x6 | x1 x3 x5 x7): a 16-byte load of eight 16-bit weights splits into the
 * even and odd ones with one shift or mask per four, no lane shuffles.
 */
export interface StepLayout {
  readonly values: 8 | 32;
  readonly bytes: number;
  /** x is packed de-interleaved within each step (bfloat16, float16: the even values, then the odd). */
  readonly deinterleave: boolean;
  /** Bytes per element of a tail (float formats only; the block formats have no tails). */
  readonly tailBytes: number;
}

export const STEP: Readonly<Record<WeightFormat, StepLayout>> = {
  float32: { values: 8, bytes: 32, deinterleave: false, tailBytes: 4 },
  bfloat16: { values: 8, bytes: 16, deinterleave: true, tailBytes: 2 },
  float16: { values: 8, bytes: 16, deinterleave: true, tailBytes: 2 },
  q8_0: { values: 32, bytes: 34, deinterleave: false, tailBytes: 0 },
  q4_0: { values: 32, bytes: 18, deinterleave: false, tailBytes: 0 },
};

/** The most rows of x one call takes (more are run 8 at a time). */
export const MAX_ROWS = 8;

const isBlock = (f: WeightFormat) => f === 'q8_0' || f === 'q4_0';

/**
 * Output rows computed together, so one x load feeds several weight rows and the additions form
 * several independent chains (one chain would wait on the add latency). Vector registers bound it:
 * V8 gives x86-64 15, so at most 8 accumulators — and a block format keeps two per (row, output):
 * the block's Σ q·x and the running total it is added to, times the block's scale.
 */
export function outputsPerGroup(format: WeightFormat, rows: number): number {
  if (isBlock(format)) return Math.max(1, Math.min(4, Math.floor(4 / rows)));
  return Math.max(1, Math.min(4, Math.floor(8 / rows)));
}

/** The function's export name. */
export const matvecName = (format: WeightFormat, rows: number) => `matvec_${format}_${rows}`;

/**
 * matvec_<format>_<R>(x, w, rowBytes, steps, tail, y, ldy, o0, o1): for output rows o0 ≤ o < o1,
 * y[r, o] (at y + r·ldy + 4·o) = Σ over `steps` steps and `tail` tail values of x[r, ·]·W[o, ·], the
 * weight's row o at w + o·rowBytes. Byte addresses are unsigned, so a memory may use all of 4 GiB.
 */
export function matvecFunction(format: WeightFormat, R: number, relaxed: boolean): FunctionDef {
  const f = new DecodeCode(matvecName(format, R), [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [x, w, rowBytes, steps, tail, y, ldy, o0, o1] = f.params as Local[] as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const step = STEP[format];
  const O = outputsPerGroup(format, R);
  const block = isBlock(format);
  // With more than 4 rows a block format scales the decoded weights instead (w·d, then one sum per row).
  const scaleWeights = block && 2 * R * O > 8;
  const [o, xp, cnt, t, yp] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const wp = Array.from({ length: O }, () => f.local(I32));
  const acc = Array.from({ length: R }, () => Array.from({ length: O }, () => f.local(V128)));
  const blk = block && !scaleWeights ? Array.from({ length: R }, () => Array.from({ length: O }, () => f.local(V128))) : [];
  const s = Array.from({ length: R }, () => Array.from({ length: O }, () => f.local(F32)));
  const [v, wv, d, sh, sg] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];

  /** d = the block scale at wp, a float16, in all four lanes. */
  const scale = (p: Local) => {
    f.get(p).i32Load16U(0).i32x4Splat().set(v);
    f16Lanes(f, v, 'even', sh, sg);
    f.f16BitsToF32(sh, sg).set(d);
  };

  /** Multiply-add the decoded weight vector wv (x chunk k of the step) into every row's sum for output g. */
  const use = (g: number, k: number) => {
    if (scaleWeights) f.get(wv).get(d).f32x4Mul().set(wv);
    for (let r = 0; r < R; r++) {
      const xOff = (r * step.values + 4 * k) * 4;
      const target = block && !scaleWeights ? blk[r]![g]! : acc[r]![g]!;
      const first = block && !scaleWeights && k === 0;
      if (first) f.get(wv).get(xp).v128Load(xOff).f32x4Mul().set(target);
      else if (relaxed) f.get(wv).get(xp).v128Load(xOff).get(target).f32x4RelaxedMadd().set(target);
      else f.get(target).get(wv).get(xp).v128Load(xOff).f32x4Mul().f32x4Add().set(target);
    }
  };

  /** Decode one step of weight row g (at wp[g]) into wv, chunk by chunk, calling use() for each. */
  const decodeStep = (g: number) => {
    const p = wp[g]!;
    if (format === 'float32') {
      for (let k = 0; k < 2; k++) {
        f.get(p)
          .v128Load(16 * k)
          .set(wv);
        use(g, k);
      }
    } else if (format === 'bfloat16') {
      // A bfloat16 is a float32's top half: the even weight shifted up, the odd one masked in place.
      f.get(p).v128Load(0).set(v);
      f.get(v).i32(16).i32x4Shl().set(wv);
      use(g, 0);
      f.get(v)
        .i32x4Const(0xffff0000 | 0)
        .v128And()
        .set(wv);
      use(g, 1);
    } else if (format === 'float16') {
      f.get(p).v128Load(0).set(v);
      for (const half of ['even', 'odd'] as const) {
        f16Lanes(f, v, half, sh, sg);
        f.f16BitsToF32(sh, sg).set(wv);
        use(g, half === 'even' ? 0 : 1);
      }
    } else {
      if (scaleWeights) scale(p);
      // Sixteen int8 codes per v128: q8_0 loads them, q4_0 splits 16 bytes into low and high nibbles
      // (codes 0–15 and 16–31) and subtracts 8; either way widen i8 → i16 → i32 and convert.
      for (let h = 0; h < 2; h++) {
        if (format === 'q8_0') f.get(p).v128Load(2 + 16 * h);
        else {
          f.get(p).v128Load(2);
          if (h === 1) f.i32(4).i32x4ShrU();
          f.i32x4Const(0x0f0f0f0f).v128And().i32x4Const(0x08080808).i8x16Sub();
        }
        f.set(v);
        for (let q = 0; q < 2; q++) {
          f.get(v);
          if (q === 0) f.i16x8ExtendLowI8x16S();
          else f.i16x8ExtendHighI8x16S();
          f.set(sh);
          f.get(sh).i32x4ExtendLowI16x8S().f32x4ConvertI32x4S().set(wv);
          use(g, 4 * h + 2 * q);
          f.get(sh).i32x4ExtendHighI16x8S().f32x4ConvertI32x4S().set(wv);
          use(g, 4 * h + 2 * q + 1);
        }
      }
      if (!scaleWeights) {
        scale(p);
        for (let r = 0; r < R; r++) {
          const a = acc[r]![g]!;
          if (relaxed) f.get(blk[r]![g]!).get(d).get(a).f32x4RelaxedMadd().set(a);
          else f.get(a).get(blk[r]![g]!).get(d).f32x4Mul().f32x4Add().set(a);
        }
      }
    }
    f.bump(p, step.bytes);
  };

  /** The scalar weight W[o + g, tail value t], for the float formats' tails. */
  const tailWeight = (g: number) => {
    f.get(wp[g]!).get(t).i32(step.tailBytes).i32Mul().i32Add();
    if (format === 'float32') f.f32Load(0);
    else if (format === 'bfloat16') f.i32Load16U(0).i32(16).i32Shl().f32ReinterpretI32();
    else {
      f.i32Load16U(0).i32x4Splat().set(v);
      f16Lanes(f, v, 'even', sh, sg);
      f.f16BitsToF32(sh, sg).f32x4ExtractLane(0);
    }
  };

  /** G output rows from o: all steps, the horizontal sums, the tail, the stores. */
  const group = (G: number) => {
    f.get(w).get(o).get(rowBytes).i32Mul().i32Add().set(wp[0]!);
    for (let g = 1; g < G; g++)
      f.get(wp[g - 1]!)
        .get(rowBytes)
        .i32Add()
        .set(wp[g]!);
    for (let r = 0; r < R; r++) for (let g = 0; g < G; g++) f.f32x4Const(0).set(acc[r]![g]!);
    f.get(x).set(xp).get(steps).set(cnt);
    f.block(() => {
      f.get(cnt).i32Eqz().brIf(0);
      f.loop(() => {
        for (let g = 0; g < G; g++) decodeStep(g);
        f.bump(xp, R * step.values * 4);
        f.get(cnt).i32(1).i32Sub().tee(cnt).brIf(0);
      });
    });
    // Horizontal sums: (l0 + l1) + (l2 + l3).
    for (let r = 0; r < R; r++)
      for (let g = 0; g < G; g++) {
        const a = acc[r]![g]!;
        f.get(a).f32x4ExtractLane(0).get(a).f32x4ExtractLane(1).f32Add();
        f.get(a).f32x4ExtractLane(2).get(a).f32x4ExtractLane(3).f32Add().f32Add().set(s[r]![g]!);
      }
    if (!block) {
      // The tail: xp now points at x's tail slots [r][8]; wp[g] at the row's tail values.
      f.i32(0).set(t);
      f.block(() => {
        f.loop(() => {
          f.get(t).get(tail).i32GeU().brIf(1);
          for (let g = 0; g < G; g++) {
            for (let r = 0; r < R; r++) {
              f.get(s[r]![g]!);
              tailWeight(g);
              f.get(xp)
                .get(t)
                .i32(4)
                .i32Mul()
                .i32Add()
                .f32Load(r * 32);
              f.f32Mul().f32Add().set(s[r]![g]!);
            }
          }
          f.bump(t, 1).br(0);
        });
      });
    }
    f.get(y).get(o).i32(4).i32Mul().i32Add().set(yp);
    for (let r = 0; r < R; r++) {
      for (let g = 0; g < G; g++)
        f.get(yp)
          .get(s[r]![g]!)
          .f32Store(4 * g);
      if (r < R - 1) f.get(yp).get(ldy).i32Add().set(yp);
    }
  };

  // Groups of O output rows while O remain, then one at a time.
  f.get(o0).set(o);
  for (const G of O > 1 ? [O, 1] : [1]) {
    f.block(() => {
      f.loop(() => {
        f.get(o1).get(o).i32Sub().i32(G).i32LtU().brIf(1);
        group(G);
        f.bump(o, G).br(0);
      });
    });
  }
  return f.finish();
}

/**
 * From v's four i32 lanes, each two float16 patterns (even one low, odd one high), take one of each
 * pair: `sh` = its 15 exponent-and-mantissa bits moved to bits 13–27, `sg` = its sign at bit 31.
 */
function f16Lanes(f: DecodeCode, v: Local, half: 'even' | 'odd', sh: Local, sg: Local): void {
  const bits = 0x7fff << 13;
  if (half === 'even') {
    f.get(v).i32(13).i32x4Shl().i32x4Const(bits).v128And().set(sh);
    f.get(v)
      .i32(16)
      .i32x4Shl()
      .i32x4Const(0x80000000 | 0)
      .v128And()
      .set(sg);
  } else {
    f.get(v).i32(3).i32x4ShrU().i32x4Const(bits).v128And().set(sh);
    f.get(v)
      .i32x4Const(0x80000000 | 0)
      .v128And()
      .set(sg);
  }
}
