// Gradient checking in float64: the analytic vector–Jacobian product from backward() against
// central finite differences, for a random cotangent (so every entry of the Jacobian counts).
// Inputs may be non-contiguous views: each element is perturbed where it lives in storage.

import { grad } from '../autograd.js';
import { noGrad } from '../grad_mode.js';
import { Generator } from '../random.js';
import { fmt, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { tensor } from '../creation.js';
import { DEFAULT_TOL } from './tolerance.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Pass when |analytic − numeric| ≤ atol + rtol·|numeric| (defaults: DEFAULT_TOL.finiteDifference). */
  atol?: number;
  rtol?: number;
  /** Seed of the random cotangent (default 0). */
  seed?: number;
  /** Label for error messages. */
  name?: string;
}

export interface GradcheckResult {
  /** Number of input elements checked. */
  checked: number;
  maxAbsError: number;
}

/**
 * Check d/dx of L = Σ r·fn(...inputs) for every input that requires grad (float64, cpu), against
 * (L(x+eps) − L(x−eps)) / 2eps per element. Throws with the worst mismatches when they differ.
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const fd = DEFAULT_TOL.finiteDifference.float64;
  const { eps = 1e-6, atol = fd.atol, rtol = fd.rtol, seed = 0, name = 'gradcheck' } = opts;
  const wrt = inputs.flatMap((x, i) => (x.requiresGrad ? [i] : []));
  if (wrt.length === 0) throw new Error(`${name}: no input requires grad`);
  for (const i of wrt) checkInput(name, inputs[i], i);

  const y0 = noGrad(() => fn(...inputs));
  if (y0.dtype !== 'float64') throw new Error(`${name}: fn must return float64 for a gradient check, got ${y0.dtype}`);
  const gen = new Generator(seed);
  const r = tensor(
    Float64Array.from({ length: y0.numel() }, () => 2 * gen.nextFloat64() - 1),
    { shape: y0.shape },
  );
  const loss = (...xs: Tensor[]) =>
    fn(...xs)
      .mul(r)
      .sum();

  const withSelected = (sel: Tensor[]) => inputs.map((x, i) => (wrt.includes(i) ? sel[wrt.indexOf(i)] : x));
  const analytic = grad(
    (...sel: Tensor[]) => loss(...withSelected(sel)),
    wrt.map((i) => inputs[i]),
  );
  const evalLoss = () => noGrad(() => loss(...inputs).itemSync());

  const failures: string[] = [];
  let checked = 0;
  let maxAbsError = 0;
  wrt.forEach((inputIndex, k) => {
    const x = inputs[inputIndex];
    const g = analytic[k];
    if (!shapesEqual(g.shape, x.shape))
      throw new Error(`${name}: gradient of input ${inputIndex} is ${fmt(g.shape)}, input is ${fmt(x.shape)}`);
    const gv = g.dataSync();
    const storage = x.storage.data as Float64Array;
    forEachPosition(x, (p, pos) => {
      const orig = storage[pos];
      storage[pos] = orig + eps;
      const plus = evalLoss();
      storage[pos] = orig - eps;
      const minus = evalLoss();
      storage[pos] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(gv[p] - numeric);
      checked++;
      if (Number.isFinite(err)) maxAbsError = Math.max(maxAbsError, err);
      const ok = err <= atol + rtol * Math.abs(numeric) || (Number.isNaN(gv[p]) && Number.isNaN(numeric));
      if (!ok) failures.push(`input ${inputIndex} element ${p}: analytic ${gv[p]}, numeric ${numeric}`);
    });
  });
  if (failures.length > 0) {
    const shapes = inputs.map((x) => fmt(x.shape)).join(', ');
    throw new Error(
      `${name}: ${failures.length} of ${checked} gradient entries differ (inputs ${shapes}):\n  ${failures.slice(0, 8).join('\n  ')}`,
    );
  }
  return { checked, maxAbsError };
}

function checkInput(name: string, x: Tensor, i: number): void {
  if (x.dtype !== 'float64') throw new Error(`${name}: input ${i} must be float64 for a gradient check, got ${x.dtype}`);
  if (x.storage.backend.name !== 'cpu') throw new Error(`${name}: input ${i} must be on the cpu backend`);
  if (!x.isLeaf) throw new Error(`${name}: input ${i} must be a leaf (use .detach().requiresGrad_())`);
  if (x.numel() > 0 && x.shape.some((d, a) => d > 1 && x.strides[a] === 0)) {
    throw new Error(
      `${name}: input ${i} is an expanded view (stride 0): its elements alias, so they cannot be perturbed one at a time`,
    );
  }
}

/** Visit each logical element p of x with its position in storage. */
function forEachPosition(x: Tensor, f: (p: number, pos: number) => void): void {
  const n = x.numel();
  const idx = new Array<number>(x.ndim).fill(0);
  for (let p = 0; p < n; p++) {
    let pos = x.offset;
    for (let d = 0; d < x.ndim; d++) pos += idx[d] * x.strides[d];
    f(p, pos);
    for (let d = x.ndim - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
}
