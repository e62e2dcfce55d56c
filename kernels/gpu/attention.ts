// Attention forward on the GPU. gpu.js has no workgroup memory, so this is not flash attention's tiled
// loop: the queries are taken in chunks, and for each chunk a score kernel writes the block
// S = q·kᵀ·scale (+ mask, causal positions set to a finite −3e38), the online-softmax row kernel
// (reduce.ts) gives each row's logsumexp, P = exp(S − lse), and an output kernel sums P·v. A chunk holds at
// most `attentionTuning.scoreBudget` scores, so memory stays bounded for long sequences; chunks are
// written into the full output by a placement kernel. GQA: query head h reads kv head ⌊h / rep⌋.

import type { KernelAttrs } from '../../core/kernel_types.js';
import { divmod, kernel, NEG, type GpuBuf, type KernelGroup } from './common.js';
import type { DeviceArray } from './device_array.js';
import { ROW_LSE } from './reduce.js';
import type { Runtime } from './runtime.js';

/** Scores per chunk (B·NH·chunk·Tk); exported so tests can force several chunks on small shapes. */
export const attentionTuning = { scoreBudget: 1 << 22 };

/** The problem's sizes and flags, as kernel arguments take them. */
export interface AttnShape {
  B: number;
  NH: number;
  KVH: number;
  Tq: number;
  Tk: number;
  HS: number;
  rep: number;
  mSB: number;
  mSH: number;
  mSQ: number;
}

export function attnShape(q: GpuBuf, k: GpuBuf, mask: GpuBuf | null): AttnShape {
  const [B, NH, Tq, HS] = q.shape as [number, number, number, number];
  const [, KVH, Tk] = k.shape as [number, number, number];
  const [MB, MH, MQ] = mask ? mask.shape : [1, 1, 1];
  return {
    B,
    NH,
    KVH,
    Tq,
    Tk,
    HS,
    rep: NH / KVH,
    mSB: MB === 1 ? 0 : MH! * MQ! * Tk,
    mSH: MH === 1 ? 0 : MQ! * Tk,
    mSQ: MQ === 1 ? 0 : Tk,
  };
}

/** Query rows per chunk so that a chunk's scores fit the budget. */
export function chunkRows(s: AttnShape): number {
  return Math.max(1, Math.min(s.Tq, Math.floor(attentionTuning.scoreBudget / Math.max(1, s.B * s.NH * s.Tk))));
}

/**
 * Source declaring, for a score thread (row of the chunk, key j): b, h, g (kv head), i (query
 * position), grow (the row in [B, NH, Tq]), qb/kb (where q_i and k_j start) and the finished score s
 * (−3e38 where causality forbids the key, without computing the dot product).
 */
export const SCORE = `${divmod('row', 'j', 'this.thread.x', 'Tk')}
    ${divmod('bh', 'ci', 'row', 'Cq')}
    ${divmod('b', 'h', 'bh', 'NH')}
    ${divmod('g', 'hr', 'h', 'rep')}
    const i = q0 + ci;
    const grow = bh * Tq + i;
    const qb = grow * HS;
    const kb = ((b * KVH + g) * Tk + j) * HS;
    let s = ${NEG};
    if (causal == 0 || j <= offset + i) {
      s = 0;
      for (let d = 0; d < HS; d++) { s = s + q[qb + d] * k[kb + d]; }
      s = s * scale;
      if (hasMask > 0) { s = s + mask[(b * mSB + h * mSH + i * mSQ + j) * hasMask]; }
      if (s < ${NEG}) { s = ${NEG}; }
    }`;

/** The score kernels' shared parameter list. */
export const SCORE_PARAMS = 'q, k, mask, NH, KVH, Tq, Tk, HS, rep, q0, Cq, scale, causal, offset, hasMask, mSB, mSH, mSQ';

const SCORES = kernel(
  'attentionScores',
  `function (${SCORE_PARAMS}) {
    ${SCORE}
    return s;
  }`,
);

/** P = exp(S − lse) in place of the scores (one exp per score, not one per score and output column). */
const PROBS = kernel(
  'attentionProbsFromScores',
  `function (S, lse, Tk) {
    ${divmod('row', 'j', 'this.thread.x', 'Tk')}
    return Math.exp(S[this.thread.x] - lse[row]);
  }`,
);

/** out[row, d] = Σ_j P[row, j]·v[j, d], stopping at the last key causality allows. */
const OUTPUT = kernel(
  'attentionOutput',
  `function (P, v, NH, KVH, Tk, HS, rep, q0, Cq, causal, offset) {
    ${divmod('row', 'd', 'this.thread.x', 'HS')}
    ${divmod('bh', 'ci', 'row', 'Cq')}
    ${divmod('b', 'h', 'bh', 'NH')}
    ${divmod('g', 'hr', 'h', 'rep')}
    let end = Tk;
    if (causal > 0 && offset + q0 + ci + 1 < Tk) { end = offset + q0 + ci + 1; }
    const vb = (b * KVH + g) * Tk * HS + d;
    let acc = 0;
    for (let j = 0; j < end; j++) { acc = acc + P[row * Tk + j] * v[vb + j * HS]; }
    return acc;
  }`,
);

/**
 * Write a chunk (rows q0..q0+Cq of each head) into the full [B·NH, Tq, W] array: chunk rows from
 * `chunk`, the rest from `prev` (or 0 for the first chunk).
 */
export const PLACE = kernel(
  'attentionPlace',
  `function (prev, chunk, Tq, W, q0, Cq, first) {
    ${divmod('bhi', 'w', 'this.thread.x', 'W')}
    ${divmod('bh', 'i', 'bhi', 'Tq')}
    if (i >= q0 && i < q0 + Cq) { return chunk[(bh * Cq + i - q0) * W + w]; }
    if (first > 0) { return 0; }
    return prev[this.thread.x];
  }`,
);

/** The scalar arguments of SCORE_PARAMS after q, k, mask, for the chunk at q0. */
export function scoreArgs(s: AttnShape, a: KernelAttrs['attention'], q0: number, cq: number): number[] {
  return [
    s.NH,
    s.KVH,
    s.Tq,
    s.Tk,
    s.HS,
    s.rep,
    q0,
    cq,
    a.scale,
    a.causal ? 1 : 0,
    a.offset,
    a.hasMask ? 1 : 0,
    s.mSB,
    s.mSH,
    s.mSQ,
  ];
}

/** Place a finished chunk into `full` (made on the first chunk); frees the chunk and the previous full array. */
export function place(
  rt: Runtime,
  full: DeviceArray | null,
  chunk: DeviceArray,
  s: AttnShape,
  W: number,
  q0: number,
  cq: number,
): DeviceArray {
  if (cq === s.Tq) return chunk;
  const next = rt.run(PLACE, s.B * s.NH * s.Tq * W, [full ?? rt.empty, chunk, s.Tq, W, q0, cq, full ? 0 : 1]);
  rt.memory.dispose(chunk);
  if (full) rt.memory.dispose(full);
  return next;
}

export const attentionKernels: KernelGroup = (rt) => ({
  attention: (inputs, attrs, spec) => {
    const [q, k, v] = inputs as [GpuBuf, GpuBuf, GpuBuf];
    const mask = attrs.hasMask ? inputs[3]! : null;
    const s = attnShape(q, k, mask);
    const cq = chunkRows(s);
    let out: DeviceArray | null = null;
    let lse: DeviceArray | null = null;
    for (let q0 = 0; q0 < s.Tq; q0 += cq) {
      const rows = Math.min(cq, s.Tq - q0);
      const S = rt.run(SCORES, s.B * s.NH * rows * s.Tk, [
        q.data,
        k.data,
        mask ? mask.data : rt.empty,
        ...scoreArgs(s, attrs, q0, rows),
      ]);
      const l = rt.run(ROW_LSE, s.B * s.NH * rows, [S, s.Tk, 1]);
      const P = rt.run(PROBS, S.length, [S, l, s.Tk]);
      rt.memory.dispose(S);
      const o = rt.run(OUTPUT, s.B * s.NH * rows * s.HS, [
        P,
        v.data,
        s.NH,
        s.KVH,
        s.Tk,
        s.HS,
        s.rep,
        q0,
        rows,
        attrs.causal ? 1 : 0,
        attrs.offset,
      ]);
      rt.memory.dispose(P);
      out = place(rt, out, o, s, s.HS, q0, rows);
      lse = place(rt, lse, l, s, 1, q0, rows);
    }
    out ??= rt.alloc(0);
    lse ??= rt.alloc(0);
    return {
      out: { data: out, shape: spec.shape, dtype: spec.dtype },
      aux: { lse: { data: lse, shape: [s.B, s.NH, s.Tq], dtype: spec.dtype } },
    };
  },
});
