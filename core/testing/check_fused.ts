// The fused = unfused check: a fused op and its reference composition must agree on the output and
// on the gradient of every floating input, for inputs drawn by fast-check, in float32 and float64.

import fc from 'fast-check';
import { noGrad } from '../grad_mode.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { tensor } from '../creation.js';
import { assertValuesClose, buildInput, countRun, fcParams, type OpCase } from './check_op.js';
import { DEFAULT_TOL, type Tolerance } from './tolerance.js';

export interface CheckFusedSpec<A> {
  name: string;
  cases: fc.Arbitrary<OpCase<A>>;
  fused: (xs: Tensor[], attrs: A) => Tensor;
  reference: (xs: Tensor[], attrs: A) => Tensor;
  dtypes?: readonly ('float32' | 'float64')[];
  /** Compare gradients too (default true). */
  grad?: boolean;
  tol?: Partial<Record<'float32' | 'float64', Tolerance>>;
  numRuns?: number;
}

export function checkFused<A>(spec: CheckFusedSpec<A>): void {
  fc.assert(
    fc.property(spec.cases, (c) => {
      countRun();
      for (const dtype of spec.dtypes ?? ['float32', 'float64']) {
        const tol = spec.tol?.[dtype] ?? DEFAULT_TOL.composition[dtype];
        const wantGrad = spec.grad ?? true;
        const make = () => c.inputs.map((s) => buildInput(s, dtype, wantGrad));
        const xf = make();
        const xr = make();
        const yf = spec.fused(xf, c.attrs);
        const yr = spec.reference(xr, c.attrs);
        assertTensorsClose(yf, yr, tol, `${spec.name} (${dtype} forward)`);
        if (!wantGrad || (!yf.requiresGrad && !yr.requiresGrad)) continue;
        // One random cotangent for both: d/dx Σ r·y compares the whole vector–Jacobian product.
        const g = new Generator(7);
        const r = noGrad(() =>
          tensor(
            Float64Array.from({ length: yf.numel() }, () => 2 * g.nextFloat64() - 1),
            { shape: yf.shape },
          ).to(dtype),
        );
        if (yf.requiresGrad) yf.mul(r).sum().backward();
        if (yr.requiresGrad) yr.mul(r).sum().backward();
        // An input the graph never reached has no gradient, which counts as an all-zero one.
        const gradOf = (x: Tensor) => x.grad ?? noGrad(() => x.mul(0));
        xf.forEach((x, i) => {
          if (!x.requiresGrad) return;
          assertTensorsClose(gradOf(x), gradOf(xr[i]), tol, `${spec.name} (${dtype} gradient of input ${i})`);
        });
      }
    }),
    fcParams(spec.numRuns ?? 50),
  );
}

/** Same shape, and every value within atol + rtol·|expected| (NaN matches NaN, ±∞ exactly). */
export function assertTensorsClose(actual: Tensor, expected: Tensor, tol: Tolerance, label: string): void {
  assertValuesClose(actual.shape, actual.dataSync(), expected.shape, expected.dataSync(), tol, label);
}
