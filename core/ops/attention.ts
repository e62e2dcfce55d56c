// Scaled dot-product attention as HF's eager Llama/Qwen3 attention computes it — scores = q·kᵀ·scale
// (+ an additive mask), causal masking, softmax, ·v — with grouped-query attention (query head j
// reads kv head ⌊j / (NH/KVH)⌋, as repeat_kv does) and a query position offset for the KV cache.
// The op is fused (flash attention: no T×T matrix, see kernels/cpu/attention.ts); `reference` is the
// composition above, materialising the scores. First-order only; the mask receives no gradient.

import { arange } from '../creation.js';
import type { KernelAttrs } from '../kernel_types.js';
import { apply, type KernelOp } from '../op.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';
import { lazyGrads, packedBackwardOp } from './fused_util.js';
import { softmax } from './softmax.js';
import { floating } from './util.js';
import { contiguous, expand, reshape } from './views.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /**
     * Flash attention over q [B, NH, Tq, HS], k and v [B, KVH, Tk, HS] (query head h reads kv head
     * h / (NH/KVH)), then an additive mask [B|1, NH|1, Tq|1, Tk] when `hasMask`. Query i sits at position
     * offset + i; `causal` allows keys j ≤ offset + i. Output [B, NH, Tq, HS]; aux `lse` [B, NH, Tq].
     */
    attention: { causal: boolean; scale: number; offset: number; hasMask: boolean };
    /** inputs q, k, v, out, lse, dout (, mask) → [dq | dk | dv] packed. */
    attentionBackward: KernelAttrs['attention'];
  }
  interface KernelAux {
    attention: 'lse';
  }
}

type QKV = 'q' | 'k' | 'v' | 'mask';

export interface AttentionOptions {
  /** Allow key j only for queries at positions ≥ j (default false). */
  causal?: boolean;
  /** Multiplies q·kᵀ (default HS^−0.5). */
  scale?: number;
  /** Additive mask broadcastable to [B, NH, Tq, Tk] (0 = keep; a large negative value = drop). */
  mask?: Tensor;
  /** Absolute position of the first query, for decoding with a KV cache (default 0). */
  offset?: number;
}

/** k or v [B, KVH, T, HS] → [B, KVH·rep, T, HS], each kv head repeated for its `rep` query heads. */
export function repeatKv(x: Tensor, rep: number): Tensor {
  if (rep === 1) return x;
  const [B, KVH, T, HS] = x.shape;
  return reshape(expand(x.unsqueeze(2), [B, KVH, rep, T, HS]), [B, KVH * rep, T, HS]);
}

export type AttentionAttrs = KernelAttrs['attention'];

function makeAttention(hasMask: boolean): KernelOp<QKV, 'attention'> {
  const inputs: QKV[] = hasMask ? ['q', 'k', 'v', 'mask'] : ['q', 'k', 'v'];
  const names = ['q', 'k', 'v', 'out', 'lse', 'dout', ...(hasMask ? ['mask'] : [])] as const;
  const Backward = packedBackwardOp<(typeof names)[number], 'attentionBackward'>('attentionBackward', names, ({ q, k, v }) => [
    q,
    k,
    v,
  ]);
  return {
    name: 'attention',
    inputs,
    save: ['q', 'k', 'v', 'mask', 'out', 'lse'],
    // Each query row's logsumexp of its scores, [B, NH, Tq].
    aux: { lse: ({ q }, _a, out) => ({ shape: q.slice(0, 3), dtype: out.dtype }) },
    shape: ({ q, k, v, mask }) => {
      const [B, NH, Tq, HS] = q;
      const [, KVH, Tk] = k;
      const ok = q.length === 4 && k.length === 4 && fmt(k) === fmt(v) && k[0] === B && k[3] === HS && KVH > 0 && NH % KVH === 0;
      if (!ok)
        throw new Error(
          `attention: expected q [B, NH, Tq, HS] and k, v [B, KVH, Tk, HS] with NH a multiple of KVH; got q ${fmt(q)}, k ${fmt(k)}, v ${fmt(v)}`,
        );
      if (mask) {
        const full = [B, NH, Tq, Tk];
        if (mask.length !== 4 || mask[3] !== Tk || mask.some((d, i) => d !== 1 && d !== full[i])) {
          throw new Error(`attention: mask ${fmt(mask)} does not broadcast to [B, NH, Tq, Tk] = ${fmt(full)}`);
        }
      }
      return q;
    },
    dtype: (d) => {
      for (const n of inputs) if (d[n] !== d.q) throw new Error(`attention: dtype mismatch: q is ${d.q}, ${n} is ${d[n]}`);
      return floating('attention')({ x: d.q });
    },
    backward: (dout, s, attrs, shapes) => {
      const ins = { q: s.q, k: s.k, v: s.v, out: s.out, lse: s.lse, dout, ...(hasMask ? { mask: s.mask } : {}) } as Record<
        (typeof names)[number],
        Tensor
      >;
      const grads = lazyGrads(Backward, ins, attrs, [shapes.q, shapes.k, shapes.v]);
      return { q: () => grads()[0], k: () => grads()[1], v: () => grads()[2] };
    },
    reference: ({ q, k, v, mask }, attrs) =>
      attentionWeights(q, k, { ...attrs, mask }).matmul(repeatKv(v, q.shape[1] / k.shape[1])),
  };
}

/**
 * The attention probabilities softmax(q·kᵀ·scale + mask, causal) [B, NH, Tq, Tk] that the fused op
 * never materialises — what HF returns with output_attentions, and what the playground draws. Built
 * from ordinary ops (so it has gradients); the fused op's `reference` is exactly this matrix · v.
 */
export function attentionWeights(q: Tensor, k: Tensor, opts: AttentionOptions = {}): Tensor {
  const { causal = false, scale = q.shape[3] ** -0.5, offset = 0, mask } = opts;
  let scores = q.matmul(repeatKv(k, q.shape[1] / k.shape[1]).mT).mul(scale);
  if (mask) scores = scores.add(mask);
  if (causal) {
    const [Tq, Tk] = [q.shape[2], k.shape[2]];
    const backend = q.storage.backend;
    const allowed = arange(Tk, undefined, 1, { backend })
      .unsqueeze(0)
      .le(arange(Tq, undefined, 1, { backend }).unsqueeze(1).add(offset));
    scores = where(allowed, scores, -Infinity);
  }
  return softmax(scores, -1);
}

const WITH_MASK = makeAttention(true);
const WITHOUT_MASK = makeAttention(false);

export function attentionOp(hasMask: boolean): KernelOp<QKV, 'attention'> {
  return hasMask ? WITH_MASK : WITHOUT_MASK;
}

/** Attention over q [B, NH, Tq, HS] and k, v [B, KVH, Tk, HS] → [B, NH, Tq, HS]. */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const { causal = false, scale = q.shape[3] ** -0.5, offset = 0 } = opts;
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`attention: offset must be a non-negative integer, got ${offset}`);
  const attrs = { causal, scale, offset, hasMask: opts.mask !== undefined };
  if (!opts.mask) return apply(WITHOUT_MASK, { q, k, v } as Record<QKV, Tensor>, attrs);
  // A mask of lower rank broadcasts from the right, as in PyTorch.
  const m = opts.mask.ndim < 4 ? reshape(opts.mask, [...Array(4 - opts.mask.ndim).fill(1), ...opts.mask.shape]) : opts.mask;
  return apply(WITH_MASK, { q, k, v, mask: contiguous(m) }, attrs);
}
