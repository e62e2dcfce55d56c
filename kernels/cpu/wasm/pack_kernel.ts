// The WebAssembly packing kernels: from a staged block (a row-major copy of part of an operand, zero
// padded so every sliver is full) to the sliver layout gemm_kernel.ts reads. Staging (a line-by-line
// copy from the caller's array, in gemm.ts) is where strides and transposes are absorbed; these only
// reorder floats, four at a time (and scale them: q·HS^−½). Byte pointers and byte line strides throughout.

import { Code, F32, I32, V128, type Local } from './code.js';
import type { FunctionDef } from './emitter.js';

const F32_BYTES = 4;
const VEC_BYTES = 16;

/** Overwrite four row vectors with the four column vectors of the 4×4 block they form: interleave pairs of rows, then pairs of pairs. */
export function emitTranspose4(f: Code, rows: Local[], tmp: Local[]): void {
  const [r0, r1, r2, r3] = rows as [Local, Local, Local, Local];
  const [t0, t1, t2, t3] = tmp as [Local, Local, Local, Local];
  f.get(r0).get(r1).f32x4Shuffle([0, 4, 1, 5]).set(t0);
  f.get(r0).get(r1).f32x4Shuffle([2, 6, 3, 7]).set(t1);
  f.get(r2).get(r3).f32x4Shuffle([0, 4, 1, 5]).set(t2);
  f.get(r2).get(r3).f32x4Shuffle([2, 6, 3, 7]).set(t3);
  f.get(t0).get(t2).f32x4Shuffle([0, 1, 4, 5]).set(r0);
  f.get(t0).get(t2).f32x4Shuffle([2, 3, 6, 7]).set(r1);
  f.get(t1).get(t3).f32x4Shuffle([0, 1, 4, 5]).set(r2);
  f.get(t1).get(t3).f32x4Shuffle([2, 3, 6, 7]).set(r3);
}

/**
 * pack_deep{W}(src, line, slivers, kc, dst): the staged lines run along K (a row of A, or a column of
 * op(B) stored transposed as in x·wᵀ): dst[s][p][r] = src[(s·W + r)·line + p], kc a multiple of 4.
 * Four lines × four K steps are loaded as four vectors and transposed in registers with shuffles.
 */
export function packDeepFunction(width: 4 | 8): FunctionDef {
  const f = new Code(`pack_deep${width}`, [I32, I32, I32, I32, I32]);
  const [src, line, slivers, kc, dst] = f.params as [Local, Local, Local, Local, Local];
  const [s, q, qEnd, row] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const rows = Array.from({ length: width }, () => f.local(I32));
  const r = Array.from({ length: 4 }, () => f.local(V128));
  const t = Array.from({ length: 4 }, () => f.local(V128));

  f.get(src).set(row).get(slivers).set(s);
  f.get(kc).i32(F32_BYTES).i32Mul().set(qEnd);
  f.loop(() => {
    // This sliver's `width` line pointers.
    for (let i = 0; i < width; i++) f.get(row).get(line).i32(i).i32Mul().i32Add().set(rows[i]!);
    f.i32(0).set(q);
    f.doWhileLtU(q, qEnd, () => {
      for (let g = 0; g < width / 4; g++) {
        for (let i = 0; i < 4; i++)
          f.get(rows[4 * g + i]!)
            .get(q)
            .i32Add()
            .v128Load()
            .set(r[i]!);
        emitTranspose4(f, r, t);
        // K step k of these four lines goes to dst + (k·width + 4g) floats.
        for (let k = 0; k < 4; k++)
          f.get(dst)
            .get(r[k]!)
            .v128Store((k * width + 4 * g) * F32_BYTES);
      }
      f.bump(dst, 4 * width * F32_BYTES).bump(q, VEC_BYTES);
    });
    f.get(row).get(line).i32(width).i32Mul().i32Add().set(row);
    f.get(s).i32(1).i32Sub().tee(s).brIf(0);
  });
  return f.finish();
}

/**
 * pack_wide{W}(src, line, slivers, kc, dst): the staged lines run along the wide dimension (a column
 * of A stored transposed, or a row of B as in x·w): dst[s][p][r] = src[p·line + s·W + r]. Each K
 * step of a sliver is W/4 vector copies.
 */
export function packWideFunction(width: 4 | 8): FunctionDef {
  const f = new Code(`pack_wide${width}`, [I32, I32, I32, I32, I32]);
  const [src, line, slivers, kc, dst] = f.params as [Local, Local, Local, Local, Local];
  const [s, p, col] = [f.local(I32), f.local(I32), f.local(I32)];

  f.get(slivers).set(s);
  f.loop(() => {
    f.get(src).set(col).get(kc).set(p);
    f.loop(() => {
      for (let v = 0; v < width / 4; v++)
        f.get(dst)
          .get(col)
          .v128Load(v * VEC_BYTES)
          .v128Store(v * VEC_BYTES);
      f.get(col).get(line).i32Add().set(col);
      f.bump(dst, width * F32_BYTES);
      f.get(p).i32(1).i32Sub().tee(p).brIf(0);
    });
    f.bump(src, width * F32_BYTES);
    f.get(s).i32(1).i32Sub().tee(s).brIf(0);
  });
  return f.finish();
}

/** scale(ptr, vecs, s): multiply `vecs` consecutive f32x4 vectors at ptr by s, in place (vecs ≥ 1). */
export function scaleFunction(): FunctionDef {
  const f = new Code('scale', [I32, I32, F32]);
  const [ptr, vecs, s] = f.params as [Local, Local, Local];
  const sv = f.local(V128);
  f.get(s).f32x4Splat().set(sv);
  f.loop(() => {
    f.get(ptr).get(ptr).v128Load().get(sv).f32x4Mul().v128Store();
    f.bump(ptr, VEC_BYTES);
    f.get(vecs).i32(1).i32Sub().tee(vecs).brIf(0);
  });
  return f.finish();
}
