// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_: the L2 norm over all gradients
// together, taken BEFORE clipping, and clip_coef = min(1, max_norm / (norm + 1e-6)) multiplied into
// every gradient. A parameter without a gradient counts as a zero gradient.

import { noGrad, stack, type Tensor } from '../../core/index.js';

export interface ClipResult {
  /** The global L2 norm of the gradients before clipping. */
  norm: number;
  /** The factor every gradient was multiplied by (1 when not clipping). */
  coef: number;
  clipped: boolean;
}

/** Round to float32 when the gradients are float32 (torch holds these scalars in the gradients' dtype). */
function rounder(dtype: string): (x: number) => number {
  return dtype === 'float32' ? Math.fround : (x) => x;
}

/**
 * sqrt(Σ_p Σ g²), shaped like torch's: the 2-norm of the per-tensor 2-norms. Each tensor's sum of
 * squares is accumulated in float64 (more accurate than torch's float32, well inside the 1e-4 tolerance),
 * and the per-tensor and total norms are rounded to the gradients' dtype as torch stores them.
 */
export async function globalGradNorm(params: readonly Tensor[]): Promise<number> {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;
  const r = rounder(grads[0]!.dtype);
  const sums = noGrad(() =>
    stack(
      grads.map((g) => g.to('float64').square().sum()),
      0,
    ),
  );
  let total = 0;
  for (const s of await sums.data()) {
    const n = r(Math.sqrt(s));
    total += n * n;
  }
  return r(Math.sqrt(total));
}

/** The clip coefficient torch computes: clamp(max_norm · (1 / (norm + 1e-6)), max = 1), in the gradients' dtype. */
export function clipCoefficient(norm: number, maxNorm: number, dtype = 'float32'): number {
  const r = rounder(dtype);
  // torch evaluates `max_norm / t` as t.reciprocal() * max_norm.
  const coef = r(r(1 / r(norm + r(1e-6))) * r(maxNorm));
  return Math.min(1, coef);
}

/** Clip every `.grad` in place (each is replaced by grad·coef); returns the norm before clipping. */
export async function clipGradNorm_(params: readonly Tensor[], maxNorm: number): Promise<ClipResult> {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new Error(`clipGradNorm_: maxNorm must be a finite number > 0, got ${maxNorm}`);
  const norm = await globalGradNorm(params);
  if (!Number.isFinite(norm)) throw new Error(`clipGradNorm_: the gradient norm is ${norm} (a NaN or infinite gradient)`);
  const dtype = params.find((p) => p.grad)?.grad?.dtype ?? 'float32';
  const coef = clipCoefficient(norm, maxNorm, dtype);
  // torch multiplies even by exactly 1.0, which changes nothing; skipping it saves a pass.
  if (coef < 1) noGrad(() => params.forEach((p) => p.grad && (p.grad = p.grad.mul(coef))));
  return { norm, coef, clipped: coef < 1 };
}
