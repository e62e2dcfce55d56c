// The default tolerances of core/testing's checks, in one table: how far a result may be from its oracle
// before a check fails, per kind of oracle and per dtype. A test that needs other numbers passes its own
// (forwardTol, tol, gradTol) with a comment saying why.

/** Pass when |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export type FloatDType = 'float32' | 'float64';

/**
 * Why these numbers. float32 rounds at 6e-8 relative, and an op's kernel sums in another order than the
 * reference formula (blocked, vectorised, threaded), so a sum of n terms drifts by up to ~n·6e-8: rtol 1e-4
 * covers rows of a thousand terms, atol 1e-5 covers results that cancel to near zero. A wrong kernel
 * (a missed term, a wrong index) is off by far more. float64 rounds at 1.1e-16, leaving the tolerances
 * a million-fold room and still catching any float32 rounding slipped into a float64 path (~1e-8).
 *
 * - `formula` (checkOp): the op's forward against a plain formula on the same rounded inputs — one
 *   computation against another, forward only.
 * - `composition` (checkFused): a fused op against its reference composition of ops, forward *and* every
 *   gradient. The gradients go through a chain of backward ops on each side (exp/log round trips,
 *   1/rms recomputed, differences of nearly equal terms), so float64 gets 10× (rtol) to 100× (atol) more
 *   room than `formula`; float32 is the same.
 * - `finiteDifference` (gradcheck): the analytic float64 gradient against central differences with step
 *   1e-6, whose truncation error (~eps²·f‴) and cancellation (~1e-16·|f|/eps ≈ 1e-10·|f|) bound what an
 *   exact gradient can show; the test inputs' curvature (exp, pow, 1/x near the gap) needs the rest.
 */
export const DEFAULT_TOL = {
  formula: {
    float32: { atol: 1e-5, rtol: 1e-4 },
    float64: { atol: 1e-12, rtol: 1e-10 },
  },
  composition: {
    float32: { atol: 1e-5, rtol: 1e-4 },
    float64: { atol: 1e-10, rtol: 1e-9 },
  },
  finiteDifference: {
    float64: { atol: 1e-5, rtol: 1e-4 },
  },
} as const satisfies Record<string, Partial<Record<FloatDType, Tolerance>>>;
