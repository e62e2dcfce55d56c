// The one oracle helper (after tinygrad's helper_test_op): for inputs drawn by fast-check, an op's
// forward must match a plain reference formula in float32 and float64, and its backward must match
// float64 finite differences. Tests call `checkOp` once per op.

import fc from 'fast-check';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { build, roundTo, type TensorSpec } from './arbitraries.js';
import { gradcheck, type GradcheckOptions } from './gradcheck.js';
import type { NDArray } from './ndarray.js';
import { DEFAULT_TOL, type Tolerance } from './tolerance.js';

/**
 * One input of a case: a tensor spec and its kind — 'float' data (differentiable, the default), a
 * 'const' float that gets no gradient (e.g. an attention mask), or an int32/bool index or mask.
 */
export interface InputSpec extends TensorSpec {
  kind?: 'float' | 'const' | 'int32' | 'bool';
}

export interface OpCase<A> {
  inputs: InputSpec[];
  attrs: A;
}

export interface CheckOpSpec<A> {
  name: string;
  cases: fc.Arbitrary<OpCase<A>>;
  /** The op under test, on built tensors. */
  fn: (xs: Tensor[], attrs: A) => Tensor;
  /** A plain formula on the same values (rounded to the dtype under test) — the forward oracle. */
  reference?: (xs: NDArray[], attrs: A) => NDArray;
  /** Float dtypes to check the forward in (default both). */
  dtypes?: readonly ('float32' | 'float64')[];
  /** Run the float64 gradient check (default true). */
  grad?: boolean;
  numRuns?: number;
  forwardTol?: Partial<Record<'float32' | 'float64', Tolerance>>;
  gradTol?: GradcheckOptions;
}

let runs = 0;

/** Property runs executed so far in this process (each is one drawn case, all checks on it). */
export function propertyRuns(): number {
  return runs;
}

/** Count one property run (for checks built outside this file). */
export function countRun(): void {
  runs++;
}

/**
 * fast-check parameters: FC_NUM_RUNS overrides every property's run count, FC_SEED fixes the seed, and
 * FC_TIME_LIMIT_MS (default 120,000; 0 = none) bounds a property's time, shrinking included: a
 * synchronous property cannot be stopped by the test runner's timeout, and shrinking a slow
 * counterexample can otherwise run for many minutes. Running out of time is a failure, reported with
 * the counterexample found so far.
 */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  const env = typeof process === 'undefined' ? {} : process.env;
  const limit = env.FC_TIME_LIMIT_MS === undefined ? 120_000 : Number(env.FC_TIME_LIMIT_MS);
  // includeErrorInReport puts the failing check's own message (which value, which entry) in the report.
  const params: fc.Parameters<unknown> = {
    numRuns: env.FC_NUM_RUNS ? Number(env.FC_NUM_RUNS) : numRuns,
    includeErrorInReport: true,
  };
  if (limit > 0) Object.assign(params, { interruptAfterTimeLimit: limit, markInterruptAsFailure: true });
  if (env.FC_SEED) params.seed = Number(env.FC_SEED);
  return params;
}

/** fc.assert of one property with the shared run-count parameters, counted in propertyRuns(). */
export function checkProperty<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns = 50): void {
  fc.assert(
    fc.property(arb, (v) => {
      runs++;
      predicate(v);
    }),
    fcParams(numRuns),
  );
}

export function checkOp<A>(spec: CheckOpSpec<A>): void {
  const dtypes = spec.dtypes ?? ['float32', 'float64'];
  fc.assert(
    fc.property(spec.cases, (c) => {
      runs++;
      if (spec.reference) {
        for (const dtype of dtypes) checkForward(spec, c, dtype);
      }
      if (spec.grad ?? true) {
        const xs = c.inputs.map((s) => buildInput(s, 'float64', true));
        gradcheck((...ts) => spec.fn(ts, c.attrs), xs, { name: spec.name, ...spec.gradTol });
      }
    }),
    fcParams(spec.numRuns ?? 100),
  );
}

/** Build a case input: floats in the dtype under test (requiring grad unless 'const'), indices as they are. */
export function buildInput(s: InputSpec, dtype: 'float32' | 'float64', requiresGrad: boolean): Tensor {
  const kind = s.kind ?? 'float';
  if (kind === 'int32' || kind === 'bool') return build(s, { dtype: kind });
  return build(s, { dtype, requiresGrad: requiresGrad && kind === 'float' });
}

function checkForward<A>(spec: CheckOpSpec<A>, c: OpCase<A>, dtype: 'float32' | 'float64'): void {
  const xs = c.inputs.map((s) => buildInput(s, dtype, false));
  const refInputs = c.inputs.map((s) => ({
    shape: s.shape,
    data: s.values.map((v) => roundTo(s.kind === 'int32' || s.kind === 'bool' ? s.kind : dtype, v)),
  }));
  const expected = spec.reference!(refInputs, c.attrs);
  const actual = spec.fn(xs, c.attrs);
  assertClose(actual, expected, spec.forwardTol?.[dtype] ?? DEFAULT_TOL.formula[dtype], `${spec.name} (${dtype} forward)`);
}

/** Compare a tensor with a reference array: same shape, each value within tolerance (NaN matches NaN, ±∞ exactly). */
export function assertClose(actual: Tensor, expected: NDArray, tol: Tolerance, label: string): void {
  assertValuesClose(actual.shape, actual.dataSync(), expected.shape, expected.data, tol, label);
}

/** The element check both assertClose and assertTensorsClose use; throws listing the first mismatches. */
export function assertValuesClose(
  shape: readonly number[],
  values: ArrayLike<number>,
  expectedShape: readonly number[],
  expected: ArrayLike<number>,
  tol: Tolerance,
  label: string,
): void {
  if (fmt(shape) !== fmt(expectedShape)) throw new Error(`${label}: shape ${fmt(shape)}, reference ${fmt(expectedShape)}`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const [v, e] = [values[i], expected[i]];
    const same = Number.isNaN(e)
      ? Number.isNaN(v)
      : !Number.isFinite(e)
        ? v === e
        : Math.abs(v - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!same) bad.push(`[${i}] got ${v}, expected ${e}`);
  }
  if (bad.length > 0)
    throw new Error(`${label}: ${bad.length} of ${values.length} values differ:\n  ${bad.slice(0, 8).join('\n  ')}`);
}
