// The WebAssembly matmul inner kernel, generated with code.ts: C_tile (+)= A_panel · B_panel over
// packed operands, an MR×NR = 4×8 register tile at a time. It knows nothing of strides, transposes,
// batches or threads: packing (gemm.ts, attention*.ts) brings every operand into the layout below.
//
// Packed layouts (float32, byte pointers): an A "sliver" is MR rows stored depth-first,
// a[p·MR + r] = A[r, p]; a B sliver is NR columns, b[p·NR + j] = B[p, j]. Slivers of a panel follow
// each other `aStride` / `bStride` bytes apart. The C tile is row-major with `ldc` bytes per row and
// rows/columns padded to MR/NR multiples, so every register tile is full (padding lanes are zeros).

import { Code, I32, V128, type Local } from './code.js';
import type { FunctionDef } from './emitter.js';

/** Rows and columns of the register tile: 8 accumulators of f32x4, 2 B vectors, 1 broadcast A. */
export const MR = 4;
export const NR = 8;
/**
 * K steps per loop iteration. 1, measured: unrolled by 2 or 4, V8's optimising compiler hoists the
 * later steps' loads above the earlier steps' arithmetic, runs out of vector registers and spills
 * accumulators to the stack (28 against 42 GFLOP/s on one Zen 4 core, the kernel alone).
 */
const UNROLL = 1;

const F32_BYTES = 4;
const VEC_LANES = 4;

/**
 * Why 4×8: x86-64 gives V8 15 allocatable vector registers (xmm15 is its scratch). Without a fused
 * multiply-add each step needs a temporary for a·b, so 4×8 uses 8 accumulators + 2 B vectors + the
 * broadcast A value + 1 temporary = 12, leaving room; 6×8 (12 accumulators) spills. Each step loads
 * 2 vectors of B and 4 scalars of A for 8 vector multiply-adds.
 *
 * The function: gemm_block(a, aStride, mTiles, b, bStride, nTiles, c, ldc, kc, accumulate) computes
 * mTiles × nTiles register tiles, for each B sliver (outer loop, so it stays in L1) every A sliver of
 * the panel (inner loop, from L2). `accumulate` = 0 overwrites C, else adds to it. kc ≥ 1.
 */
export function gemmBlockFunction(relaxed: boolean): FunctionDef {
  const f = new Code('gemm_block', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [a, aStride, mTiles, b, bStride, nTiles, c, ldc, kc, accumulate] = f.params as [
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
  const [ai, ci, bj, cj, i, j, pa, pb, end, row] = Array.from({ length: 10 }, () => f.local(I32));
  const nv = NR / VEC_LANES;
  const acc = Array.from({ length: MR }, () => Array.from({ length: nv }, () => f.local(V128)));
  const bv = Array.from({ length: nv }, () => f.local(V128));
  const av = f.local(V128);

  /** One K step, reading A and B at constant offsets `step` steps past pa and pb. */
  const kStep = (step: number) => {
    for (let v = 0; v < nv; v++)
      f.get(pb)
        .v128Load((step * NR + v * VEC_LANES) * F32_BYTES)
        .set(bv[v]!);
    for (let r = 0; r < MR; r++) {
      f.get(pa)
        .v128Load32Splat((step * MR + r) * F32_BYTES)
        .set(av);
      for (let v = 0; v < nv; v++) {
        const cr = acc[r]![v]!;
        if (relaxed) f.get(av).get(bv[v]!).get(cr).f32x4RelaxedMadd().set(cr);
        else f.get(cr).get(av).get(bv[v]!).f32x4Mul().f32x4Add().set(cr);
      }
    }
  };

  /** Load the C tile at ci into the accumulators, or zero them. */
  const loadC = () => {
    f.get(accumulate).if(
      () => {
        f.get(ci).set(row);
        for (let r = 0; r < MR; r++) {
          for (let v = 0; v < nv; v++)
            f.get(row)
              .v128Load(v * VEC_LANES * F32_BYTES)
              .set(acc[r]![v]!);
          if (r < MR - 1) f.get(row).get(ldc).i32Add().set(row);
        }
      },
      () => {
        for (const v of acc.flat()) f.f32x4Const(0).set(v);
      },
    );
  };

  const storeC = () => {
    f.get(ci).set(row);
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < nv; v++)
        f.get(row)
          .get(acc[r]![v]!)
          .v128Store(v * VEC_LANES * F32_BYTES);
      if (r < MR - 1) f.get(row).get(ldc).i32Add().set(row);
    }
  };

  /** The register tile: C[ci] (+)= A sliver at ai · B sliver at bj, over kc steps. */
  const microKernel = () => {
    loadC();
    f.get(ai).set(pa);
    f.get(bj).set(pb);
    // Unrolled part: pa advances MR floats per step; `end` is where the last full UNROLL group ends.
    f.get(ai)
      .get(kc)
      .i32(~(UNROLL - 1))
      .i32And()
      .i32(MR * F32_BYTES)
      .i32Mul()
      .i32Add()
      .set(end);
    f.block(() => {
      f.get(pa).get(end).i32GeU().brIf(0);
      f.doWhileLtU(pa, end, () => {
        for (let s = 0; s < UNROLL; s++) kStep(s);
        f.bump(pa, UNROLL * MR * F32_BYTES).bump(pb, UNROLL * NR * F32_BYTES);
      });
    });
    // The remaining kc mod UNROLL steps, one at a time.
    f.get(ai)
      .get(kc)
      .i32(MR * F32_BYTES)
      .i32Mul()
      .i32Add()
      .set(end);
    f.block(() => {
      f.get(pa).get(end).i32GeU().brIf(0);
      f.doWhileLtU(pa, end, () => {
        kStep(0);
        f.bump(pa, MR * F32_BYTES).bump(pb, NR * F32_BYTES);
      });
    });
    storeC();
  };

  // for each B sliver (j), for each A sliver (i): one register tile.
  f.get(b).set(bj).get(c).set(cj).get(nTiles).set(j);
  f.loop(() => {
    f.get(a).set(ai).get(cj).set(ci).get(mTiles).set(i);
    f.loop(() => {
      microKernel();
      f.get(ai).get(aStride).i32Add().set(ai);
      f.get(ci).get(ldc).i32(MR).i32Mul().i32Add().set(ci);
      f.get(i).i32(1).i32Sub().tee(i).brIf(0);
    });
    f.get(bj).get(bStride).i32Add().set(bj);
    f.bump(cj, NR * F32_BYTES);
    f.get(j).i32(1).i32Sub().tee(j).brIf(0);
  });
  return f.finish();
}
