// Cross-entropy over the last axis. Class-index targets use the fused op: one streaming pass per row
// (online logsumexp), so neither forward nor backward keeps a probability matrix; its `reference` is
// the readable composition logSoftmax → gather → masked mean. Probability targets are composed directly.

import { isFloating } from '../dtype.js';
import { apply, type KernelOp } from '../op.js';
import { fmt, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';
import { gather } from './indexing.js';
import { sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { reshape } from './views.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** Row-wise cross-entropy of logits [N, V] with int32 targets [N], one streaming pass per row; aux `lse` [N], `count` []. */
    crossEntropy: { ignoreIndex: number; reduction: 'mean' | 'sum' | 'none' };
    /** inputs logits, targets, lse, count, dy → dlogits [N, V]. */
    crossEntropyBackward: { ignoreIndex: number; reduction: 'mean' | 'sum' | 'none' };
  }
  interface KernelAux {
    crossEntropy: 'lse' | 'count';
  }
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped: no loss, no gradient, not counted in the mean (default -100). */
  ignoreIndex?: number;
  /** 'mean' (default): one mean over all non-ignored targets; 'sum'; or 'none' (per position). */
  reduction?: 'mean' | 'sum' | 'none';
}

type LT = 'logits' | 'targets';

const CrossEntropyBackward: KernelOp<'logits' | 'targets' | 'lse' | 'count' | 'dy', 'crossEntropyBackward'> = {
  name: 'crossEntropyBackward',
  inputs: ['logits', 'targets', 'lse', 'count', 'dy'],
  shape: ({ logits }) => logits,
  dtype: ({ logits }) => logits,
};

/**
 * Rows of logits [N, V] against int32 targets [N]: loss_r = lse_r − x[r, t_r]. Backward:
 * dlogits = g_r·(softmax_r − onehot(t_r)), g_r = dy/count (mean), dy (sum) or dy_r (none).
 */
export const CrossEntropy: KernelOp<LT, 'crossEntropy'> = {
  name: 'crossEntropy',
  inputs: ['logits', 'targets'],
  save: ['logits', 'targets', 'lse', 'count'],
  // Each row's logsumexp, and the number of counted (non-ignored) targets.
  aux: {
    lse: ({ logits }, _a, out) => ({ shape: [logits[0]!], dtype: out.dtype }),
    count: (_x, _a, out) => ({ shape: [], dtype: out.dtype }),
  },
  shape: ({ logits, targets }, { reduction }) => {
    if (logits.length !== 2 || targets.length !== 1 || targets[0] !== logits[0]) {
      throw new Error(`crossEntropy: expected logits [N, V] and targets [N], got ${fmt(logits)} and ${fmt(targets)}`);
    }
    return reduction === 'none' ? targets : [];
  },
  dtype: ({ logits, targets }) => {
    if (!isFloating(logits)) throw new Error(`crossEntropy: logits must be floating, got ${logits}`);
    if (targets !== 'int32')
      throw new Error(`crossEntropy: class-index targets must be int32, got ${targets}; create them with { dtype: 'int32' }`);
    return logits;
  },
  backward: (dy, { logits, targets, lse, count }, attrs) => ({
    logits: () => apply(CrossEntropyBackward, { logits, targets, lse, count, dy }, attrs),
  }),
  reference: ({ logits, targets }, attrs) => crossEntropyReference(logits, targets, attrs),
};

/**
 * Cross-entropy of `logits` [..., C] (classes on the last axis) against class indices [...] (int32),
 * or against class probabilities shaped like the logits. With the default 'mean' this is PyTorch's
 * F.cross_entropy on the flattened [N, C] logits: Σ −log p(target) / (number of non-ignored targets).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = opts;
  checkLogits(logits);
  if (shapesEqual(targets.shape, logits.shape) && isFloating(targets.dtype)) return softTargets(logits, targets, reduction);
  checkTargets(logits, targets);
  const C = logits.shape.at(-1)!;
  const out = apply(
    CrossEntropy,
    { logits: reshape(logits, [-1, C]), targets: reshape(targets, [-1]) },
    { ignoreIndex, reduction },
  );
  return reduction === 'none' ? reshape(out, targets.shape) : out;
}

/** The unfused composition the fused op is tested against: logSoftmax, gather the target, masked mean. */
export function crossEntropyReference(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = opts;
  checkLogits(logits);
  checkTargets(logits, targets);
  const logp = logSoftmax(logits, -1);
  const valid = targets.ne(ignoreIndex);
  const safe = where(valid, targets, 0);
  let picked: Tensor;
  try {
    picked = gather(logp, -1, safe.unsqueeze(-1)).squeeze(-1);
  } catch (e) {
    throw new Error(
      `crossEntropy: a target is neither a class in [0, ${logits.shape.at(-1)}) nor ignoreIndex ${ignoreIndex} (${(e as Error).message})`,
    );
  }
  const nll = where(valid, picked.neg(), 0);
  if (reduction === 'none') return nll;
  const total = sum(nll);
  return reduction === 'sum' ? total : total.div(sum(valid.to(logits.dtype)));
}

function softTargets(logits: Tensor, p: Tensor, reduction: 'mean' | 'sum' | 'none'): Tensor {
  const rows = logSoftmax(logits, -1).mul(p).sum(-1).neg();
  if (reduction === 'none') return rows;
  const total = sum(rows);
  return reduction === 'sum' ? total : total.div(rows.numel());
}

function checkLogits(logits: Tensor): void {
  if (logits.ndim < 1 || !isFloating(logits.dtype)) {
    throw new Error(`crossEntropy: logits must be a floating tensor [..., C], got ${fmt(logits.shape)} ${logits.dtype}`);
  }
}

function checkTargets(logits: Tensor, targets: Tensor): void {
  if (!shapesEqual(targets.shape, logits.shape.slice(0, -1))) {
    throw new Error(
      `crossEntropy: targets ${fmt(targets.shape)} must be ${fmt(logits.shape.slice(0, -1))} (class indices) or ${fmt(logits.shape)} (probabilities)`,
    );
  }
  if (targets.dtype !== 'int32') {
    throw new Error(`crossEntropy: class-index targets must be int32, got ${targets.dtype}; create them with { dtype: 'int32' }`);
  }
}
