// Rotary position embedding (RoPE) as HF Llama/Qwen3 apply it: the half-split `rotate_half` layout,
// q' = q·cos + rotate_half(q)·sin, with cos/sin tables built in float32 (as HF builds them, even for
// a float64 model) and cached per (head size, theta, scaling). The op is fused: one pass, and its
// backward is the inverse rotation. Scaling variants: default, llama3, yarn (see ropeInvFreq).

import { getBackend } from '../backend.js';
import type { DType } from '../dtype.js';
import type { Backend } from '../kernel_types.js';
import { apply, type KernelOp } from '../op.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cat } from './join.js';
import { indexSelect } from './indexing.js';
import { narrow } from './views.js';
import { floating } from './util.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /** Half-split rotation of x [B, NH, T, HS] by cos/sin [T, HS] or [B, T, HS]; `inverse` rotates back. */
    rope: { inverse: boolean };
  }
}

type XCS = 'x' | 'cos' | 'sin';

/** out = x·cos + rotate_half(x)·sin over x [B, NH, T, HS]; dx = the inverse rotation of dy. */
export const Rope: KernelOp<XCS, 'rope'> = {
  name: 'rope',
  inputs: ['x', 'cos', 'sin'],
  save: ['cos', 'sin'],
  shape: ({ x, cos, sin }) => {
    const [B, , T, HS] = x;
    const tableOk = (t: readonly number[]) =>
      (t.length === 2 && t[0] === T && t[1] === HS) || (t.length === 3 && t[0] === B && t[1] === T && t[2] === HS);
    if (x.length !== 4 || HS % 2 !== 0 || !tableOk(cos) || fmt(cos) !== fmt(sin)) {
      throw new Error(
        `rope: x must be [B, NH, T, HS] with even HS and cos/sin [T, HS] or [B, T, HS]; got x ${fmt(x)}, cos ${fmt(cos)}, sin ${fmt(sin)}`,
      );
    }
    return x;
  },
  dtype: ({ x, cos, sin }) => {
    if (x !== cos || x !== sin) throw new Error(`rope: dtype mismatch: x is ${x}, cos is ${cos}, sin is ${sin}`);
    return floating('rope')({ x });
  },
  backward: (dy, { cos, sin }, { inverse }) => ({ x: () => apply(Rope, { x: dy, cos, sin }, { inverse: !inverse }) }),
  reference: ({ x, cos, sin }) => {
    const half = x.shape[3] / 2;
    const rotated = cat([narrow(x, 3, half, half).neg(), narrow(x, 3, 0, half)], 3);
    const table = (t: Tensor) => (t.ndim === 2 ? t : t.unsqueeze(1));
    return x.mul(table(cos)).add(rotated.mul(table(sin)));
  },
};

/** Rotate q or k [B, NH, T, HS] by the cos/sin tables of their positions. */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return apply(Rope, { x, cos, sin }, { inverse: false });
}

/** RoPE frequency scaling, with HF's parameters already resolved by the caller (see model/). */
export type RopeScaling =
  | { type: 'default' }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | {
      type: 'yarn';
      factor: number;
      originalMaxPositionEmbeddings: number;
      betaFast: number;
      betaSlow: number;
      attentionFactor: number;
    };

const f32 = Math.fround;

/**
 * inv_freq[i] = 1/theta^(2i/d) in float32 (HF's `_compute_default_rope_parameters`), then rescaled by
 * llama3 (long wavelengths divided by `factor`, a smooth blend in between) or yarn (a per-frequency
 * blend of interpolation and extrapolation). Returns the frequencies and the attention scaling that
 * multiplies cos and sin (1 except for yarn).
 */
export function ropeInvFreq(
  headDim: number,
  theta: number,
  scaling: RopeScaling = { type: 'default' },
): { invFreq: Float64Array; attentionScaling: number } {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0)
    throw new Error(`rope: head size must be a positive even integer, got ${headDim}`);
  if (!(theta > 0)) throw new Error(`rope: theta must be positive, got ${theta}`);
  const half = headDim / 2;
  const posFreq = Array.from({ length: half }, (_, i) => f32(theta ** f32((2 * i) / headDim)));
  const inv = Float64Array.from(posFreq, (p) => f32(1 / p));
  if (scaling.type === 'default') return { invFreq: inv, attentionScaling: 1 };
  if (scaling.type === 'llama3') {
    const { factor, lowFreqFactor: lf, highFreqFactor: hf, originalMaxPositionEmbeddings: L0 } = scaling;
    const out = inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > L0 / lf) return f32(f / factor);
      if (wavelen < L0 / hf) return f;
      const s = (L0 / wavelen - lf) / (hf - lf);
      return f32((1 - s) * (f / factor) + s * f);
    });
    return { invFreq: out, attentionScaling: 1 };
  }
  const { factor, originalMaxPositionEmbeddings: L, betaFast, betaSlow, attentionFactor } = scaling;
  const correctionDim = (rot: number) => (headDim * Math.log(L / (rot * 2 * Math.PI))) / (2 * Math.log(theta));
  const low = Math.max(Math.floor(correctionDim(betaFast)), 0);
  let high = Math.min(Math.ceil(correctionDim(betaSlow)), headDim - 1);
  if (low === high) high += 0.001;
  const out = posFreq.map((p, i) => {
    const extrapolation = 1 - Math.min(1, Math.max(0, (i - low) / (high - low)));
    return f32((1 / (factor * p)) * (1 - extrapolation) + (1 / p) * extrapolation);
  });
  return { invFreq: Float64Array.from(out), attentionScaling: attentionFactor };
}

interface Tables {
  cos: Tensor;
  sin: Tensor;
}

/** Tables per backend object (not name: two GPU backends may share a name, and a destroyed one must not serve tables). */
const caches = new WeakMap<Backend<any>, Map<string, Tables>>();

/**
 * cos/sin [T, HS] for positions offset..offset+T−1 (views into a cached table that grows by
 * doubling), or [B, T, HS] for explicit int32 `positionIds` [B, T]. Values are computed in float32
 * like HF — freqs = pos·inv_freq, emb = cat(freqs, freqs) — then given the requested dtype.
 */
export function ropeTables(
  headDim: number,
  theta: number,
  scaling: RopeScaling,
  positions: { offset: number; length: number } | Tensor,
  dtype: DType = 'float32',
  backend: Backend<any> = getBackend(),
): Tables {
  floating('ropeTables')({ x: dtype });
  const key = `${headDim}|${theta}|${JSON.stringify(scaling)}|${dtype}`;
  let cache = caches.get(backend);
  if (!cache) caches.set(backend, (cache = new Map()));
  const need = positions instanceof Tensor ? 1 + Math.max(0, ...positions.dataSync()) : positions.offset + positions.length;
  let t = cache.get(key);
  if (!t || t.cos.shape[0] < need) {
    t = buildTables(headDim, theta, scaling, Math.max(need, 2 * (t?.cos.shape[0] ?? 0), 64), dtype, backend);
    cache.set(key, t);
  }
  if (positions instanceof Tensor) {
    if (positions.ndim !== 2 || positions.dtype !== 'int32')
      throw new Error(`rope: positionIds must be int32 [B, T], got ${fmt(positions.shape)} ${positions.dtype}`);
    const flat = positions.reshape(-1);
    const [B, T] = positions.shape;
    return { cos: indexSelect(t.cos, 0, flat).reshape(B, T, headDim), sin: indexSelect(t.sin, 0, flat).reshape(B, T, headDim) };
  }
  return { cos: narrow(t.cos, 0, positions.offset, positions.length), sin: narrow(t.sin, 0, positions.offset, positions.length) };
}

function buildTables(
  headDim: number,
  theta: number,
  scaling: RopeScaling,
  length: number,
  dtype: DType,
  backend: Backend<any>,
): Tables {
  const { invFreq, attentionScaling } = ropeInvFreq(headDim, theta, scaling);
  const half = headDim / 2;
  const cos = new Float64Array(length * headDim);
  const sin = new Float64Array(length * headDim);
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < half; i++) {
      const angle = f32(p * invFreq[i]);
      const c = f32(f32(Math.cos(angle)) * attentionScaling);
      const s = f32(f32(Math.sin(angle)) * attentionScaling);
      cos[p * headDim + i] = cos[p * headDim + i + half] = c;
      sin[p * headDim + i] = sin[p * headDim + i + half] = s;
    }
  }
  const make = (data: Float64Array) => {
    const t = Tensor.fromArray(backend, dtype === 'float64' ? data : Float32Array.from(data), dtype, [length, headDim]);
    // Cached across calls: exempt from the scope that happens to build it (see core/memory.ts).
    backend.memory?.keep(t.storage.data);
    return t;
  };
  return { cos: make(cos), sin: make(sin) };
}
