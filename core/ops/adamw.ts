// The AdamW parameter update (Loshchilov & Hutter; torch.optim.AdamW): decoupled weight decay and
// bias-corrected moments, fused into one in-place pass per parameter. Not differentiable — it runs
// outside the graph. `adamwReference` is the same rule as separate ops, returning new tensors.

import { noGrad } from '../grad_mode.js';
import { fmt, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** In place on inputs p, g, m, v (decoupled weight decay, bias-corrected moments); returns p. */
    adamw: AdamwHyper;
  }
}

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count k (bias corrections use β^k). */
  step: number;
}

function check(name: string, p: Tensor, g: Tensor, m: Tensor, v: Tensor, h: AdamwHyper): void {
  for (const [label, t] of [
    ['grad', g],
    ['m', m],
    ['v', v],
  ] as const) {
    if (!shapesEqual(t.shape, p.shape) || t.dtype !== p.dtype) {
      throw new Error(`${name}: ${label} is ${fmt(t.shape)} ${t.dtype}, parameter is ${fmt(p.shape)} ${p.dtype}`);
    }
  }
  if (!Number.isInteger(h.step) || h.step < 1)
    throw new Error(`${name}: step must be a positive integer (1-based), got ${h.step}`);
}

/** Whole-storage contiguous tensors are updated where they live; anything else would update a copy. */
function checkOwnsStorage(name: string, label: string, t: Tensor): void {
  const whole = t.isContiguous() && t.offset === 0 && t.storage.backend.length(t.storage.data) === t.numel();
  if (!whole)
    throw new Error(`${name}: ${label} must be a contiguous tensor that owns its storage (not a view) to be updated in place`);
}

/**
 * One AdamW step, in place on `param`, `m` and `v`:
 * p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − (lr/(1−β1^k))·m/(√v/√(1−β2^k) + eps).
 */
export function adamwUpdate_(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamwHyper): void {
  check('adamwUpdate_', param, grad, m, v, h);
  for (const [label, t] of [
    ['param', param],
    ['m', m],
    ['v', v],
  ] as const)
    checkOwnsStorage('adamwUpdate_', label, t);
  const backend = param.storage.backend;
  const g = grad.toBuf();
  backend.kernels.adamw([param.toBuf(), g, m.toBuf(), v.toBuf()], h, { shape: param.shape, dtype: param.dtype });
  grad.releaseBuf(g);
}

/** The same rule as separate ops: returns the new { param, m, v } and changes nothing. */
export function adamwReference(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  h: AdamwHyper,
): { param: Tensor; m: Tensor; v: Tensor } {
  check('adamwReference', param, grad, m, v, h);
  return noGrad(() => {
    const decayed = param.mul(1 - h.lr * h.weightDecay);
    const m1 = m.mul(h.beta1).add(grad.mul(1 - h.beta1));
    const v1 = v.mul(h.beta2).add(grad.square().mul(1 - h.beta2));
    const denom = v1
      .sqrt()
      .div(Math.sqrt(1 - h.beta2 ** h.step))
      .add(h.eps);
    const p1 = decayed.sub(m1.div(denom).mul(h.lr / (1 - h.beta1 ** h.step)));
    return { param: p1, m: m1, v: v1 };
  });
}
