// Cross-entropy over the last axis, composed from logSoftmax + gather: the readable reference that
// the fused, vocabulary-chunked kernel (fast-kernels issue) is tested against.

import { isFloating } from '../dtype.js';
import { fmt, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';
import { gather } from './indexing.js';
import { sum } from './reduce.js';
import { logSoftmax } from './softmax.js';

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped: no loss, no gradient, not counted in the mean (default -100). */
  ignoreIndex?: number;
  /** 'mean' (default): one mean over all non-ignored targets; 'sum'; or 'none' (per position). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of `logits` [..., C] (classes on the last axis) against class indices [...] (int32),
 * or against class probabilities shaped like the logits. With the default 'mean' this is PyTorch's
 * F.cross_entropy on the flattened [N, C] logits: Σ −log p(target) / (number of non-ignored targets).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = opts;
  if (logits.ndim < 1 || !isFloating(logits.dtype)) {
    throw new Error(`crossEntropy: logits must be a floating tensor [..., C], got ${fmt(logits.shape)} ${logits.dtype}`);
  }
  const logp = logSoftmax(logits, -1);
  if (shapesEqual(targets.shape, logits.shape) && isFloating(targets.dtype)) {
    const rows = logp.mul(targets).sum(-1).neg();
    return reduce(rows, reduction, rows.numel());
  }
  if (!shapesEqual(targets.shape, logits.shape.slice(0, -1))) {
    throw new Error(`crossEntropy: targets ${fmt(targets.shape)} must be ${fmt(logits.shape.slice(0, -1))} (class indices) or ${fmt(logits.shape)} (probabilities)`);
  }
  if (targets.dtype !== 'int32') {
    throw new Error(`crossEntropy: class-index targets must be int32, got ${targets.dtype}; create them with { dtype: 'int32' }`);
  }
  const valid = targets.ne(ignoreIndex);
  const safe = where(valid, targets, 0);
  let picked: Tensor;
  try {
    picked = gather(logp, -1, safe.unsqueeze(-1)).squeeze(-1);
  } catch (e) {
    throw new Error(`crossEntropy: a target is neither a class in [0, ${logits.shape.at(-1)}) nor ignoreIndex ${ignoreIndex} (${(e as Error).message})`);
  }
  const nll = where(valid, picked.neg(), 0);
  return reduce(nll, reduction, () => sum(valid.to(logits.dtype)));
}

function reduce(perRow: Tensor, reduction: 'mean' | 'sum' | 'none', count: number | (() => Tensor)): Tensor {
  if (reduction === 'none') return perRow;
  const total = sum(perRow);
  if (reduction === 'sum') return total;
  return total.div(typeof count === 'number' ? count : count());
}
