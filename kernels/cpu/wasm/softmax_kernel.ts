// The online-softmax step of flash attention in WebAssembly SIMD, four query rows at a time, with a
// vectorised exp. It does not compute scores or apply masks (gemm_kernel.ts and the TypeScript
// caller do); it turns a block of scores into the packed probabilities P·V reads, and keeps each
// row's running max m and sum l, rescaling the output accumulator when the max grows.

import { Code, I32, V128, type Local } from './code.js';
import type { FunctionDef } from './emitter.js';
import { emitTranspose4 } from './pack_kernel.js';

const F32_BYTES = 4;
const VEC_BYTES = 16;
/** The most negative finite float32: the running max of a row whose keys are all masked so far. */
export const NEG_MAX_F32 = -3.4028234663852886e38;

/**
 * Push exp(x) for the four lanes of local `x` (arguments ≤ 88; below −88 the result is 0): with
 * n = round(x / ln 2) and r = x − n·ln 2 (|r| ≤ ln2 / 2, ln 2 split in two parts so n·ln2_hi is exact),
 * exp(x) = 2ⁿ · exp(r), exp(r) by its Taylor polynomial to degree 6 (truncation < 1.3e-7, about one
 * float32 ulp), 2ⁿ built directly as the float bits (n + 127) << 23. Clobbers x; uses n and r.
 */
export function emitExp(f: Code, x: Local, n: Local, r: Local): void {
  f.get(x).f32x4Const(-88).f32x4Pmax().set(x);
  f.get(x).f32x4Const(Math.LOG2E).f32x4Mul().f32x4Nearest().set(n);
  f.get(x).get(n).f32x4Const(0.693359375).f32x4Mul().f32x4Sub();
  f.get(n).f32x4Const(-2.1219444e-4).f32x4Mul().f32x4Sub().set(r);
  // Horner: 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r/720)))))
  f.f32x4Const(1 / 720);
  for (const c of [1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]) f.get(r).f32x4Mul().f32x4Const(c).f32x4Add();
  f.get(n).i32x4TruncSatF32x4S().i32x4Const(127).i32x4Add().i32(23).i32x4Shl();
  f.f32x4Mul();
}

/**
 * softmax_block(s, lds, p, pStride, slivers, groups, m, l, acc, ldacc, accVecs): for each sliver of
 * four rows of the score block S (row stride lds bytes; 4·groups columns, padding columns −∞):
 *   M = max(m, rowmax S) (at least NEG_MAX_F32, so fully masked rows stay finite and give P = 0),
 *   P = exp(S − M) stored packed for P·V (4 rows × 4 columns = 16 consecutive floats),
 *   l = l·exp(m − M) + Σ P,  m = M,  acc rows ·= exp(m − M) (accVecs vectors per row, ldacc bytes apart).
 * Columns are transposed as they are read, so every lane is one row and no horizontal sums are needed.
 */
export function softmaxBlockFunction(): FunctionDef {
  const f = new Code('softmax_block', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [s, lds, p, pStride, slivers, groups, m, l, acc, ldacc, accVecs] = f.params as [
    Local,
    Local,
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
  const [sl, g, pq, ptr, k] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const rp = Array.from({ length: 4 }, () => f.local(I32));
  const rv = Array.from({ length: 4 }, () => f.local(V128));
  const tv = Array.from({ length: 4 }, () => f.local(V128));
  const [mx, M, alpha, L, x, n, r, scale] = Array.from({ length: 8 }, () => f.local(V128));

  f.get(slivers).set(sl);
  f.loop(() => {
    // Pass 1: transpose the scores into P's packed layout, keeping each row's max in its lane.
    for (let i = 0; i < 4; i++) f.get(s).get(lds).i32(i).i32Mul().i32Add().set(rp[i]!);
    f.get(p).set(pq).get(groups).set(g).f32x4Const(-Infinity).set(mx);
    f.loop(() => {
      for (let i = 0; i < 4; i++) f.get(rp[i]!).v128Load().set(rv[i]!);
      emitTranspose4(f, rv, tv);
      for (let i = 0; i < 4; i++) {
        f.get(pq)
          .get(rv[i]!)
          .v128Store(i * VEC_BYTES);
        f.get(mx).get(rv[i]!).f32x4Pmax().set(mx);
      }
      for (let i = 0; i < 4; i++) f.bump(rp[i]!, VEC_BYTES);
      f.bump(pq, 4 * VEC_BYTES);
      f.get(g).i32(1).i32Sub().tee(g).brIf(0);
    });
    f.get(m).v128Load().get(mx).f32x4Pmax().f32x4Const(NEG_MAX_F32).f32x4Pmax().set(M);
    f.get(m).v128Load().get(M).f32x4Sub().set(x);
    emitExp(f, x, n, r);
    f.set(alpha);
    // Pass 2: P = exp(S − M) in place, summing each row's lane.
    f.get(p).set(pq).get(groups).set(g).f32x4Const(0).set(L);
    f.loop(() => {
      for (let i = 0; i < 4; i++) {
        f.get(pq)
          .v128Load(i * VEC_BYTES)
          .get(M)
          .f32x4Sub()
          .set(x);
        emitExp(f, x, n, r);
        f.set(x);
        f.get(pq)
          .get(x)
          .v128Store(i * VEC_BYTES);
        f.get(L).get(x).f32x4Add().set(L);
      }
      f.bump(pq, 4 * VEC_BYTES);
      f.get(g).i32(1).i32Sub().tee(g).brIf(0);
    });
    f.get(l).get(l).v128Load().get(alpha).f32x4Mul().get(L).f32x4Add().v128Store();
    f.get(m).get(M).v128Store();
    // Rescale the four accumulator rows, row i by lane i of alpha.
    for (let i = 0; i < 4; i++) {
      f.get(alpha).f32x4ExtractLane(i).f32x4Splat().set(scale);
      f.get(acc).get(ldacc).i32(i).i32Mul().i32Add().set(ptr);
      f.get(accVecs).set(k);
      f.loop(() => {
        f.get(ptr).get(ptr).v128Load().get(scale).f32x4Mul().v128Store();
        f.bump(ptr, VEC_BYTES);
        f.get(k).i32(1).i32Sub().tee(k).brIf(0);
      });
    }
    // Next sliver: four rows down in S and the accumulator, the next packed P sliver, m and l.
    f.get(s).get(lds).i32(4).i32Mul().i32Add().set(s);
    f.get(acc).get(ldacc).i32(4).i32Mul().i32Add().set(acc);
    f.get(p).get(pStride).i32Add().set(p);
    f.bump(m, 4 * F32_BYTES).bump(l, 4 * F32_BYTES);
    f.get(sl).i32(1).i32Sub().tee(sl).brIf(0);
  });
  return f.finish();
}

/**
 * probs_grads(s, dp, ld, rows, groups, lse, D), the softmax backward of one block: for each row i
 * (ld bytes apart in both blocks) and 4·groups columns, P = exp(S − lse_i) in place of S and
 * dS = P ⊙ (dP − D_i) in place of dP (lse, D: one float per row).
 */
export function probsGradsFunction(): FunctionDef {
  const f = new Code('probs_grads', [I32, I32, I32, I32, I32, I32, I32]);
  const [s, dp, ld, rows, groups, lse, D] = f.params as [Local, Local, Local, Local, Local, Local, Local];
  const [row, g, ps, pd] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const [lseV, dV, x, n, r] = Array.from({ length: 5 }, () => f.local(V128));

  f.get(rows).set(row);
  f.loop(() => {
    f.get(lse).v128Load32Splat().set(lseV);
    f.get(D).v128Load32Splat().set(dV);
    f.get(s).set(ps).get(dp).set(pd).get(groups).set(g);
    f.loop(() => {
      f.get(ps).v128Load().get(lseV).f32x4Sub().set(x);
      emitExp(f, x, n, r);
      f.set(x);
      f.get(ps).get(x).v128Store();
      f.get(pd).get(x).get(pd).v128Load().get(dV).f32x4Sub().f32x4Mul().v128Store();
      f.bump(ps, VEC_BYTES).bump(pd, VEC_BYTES);
      f.get(g).i32(1).i32Sub().tee(g).brIf(0);
    });
    f.get(s).get(ld).i32Add().set(s);
    f.get(dp).get(ld).i32Add().set(dp);
    f.bump(lse, F32_BYTES).bump(D, F32_BYTES);
    f.get(row).i32(1).i32Sub().tee(row).brIf(0);
  });
  return f.finish();
}
