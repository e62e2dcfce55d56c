// Attention backward on the GPU, chunked over queries like the forward (attention.ts). Probabilities are
// recomputed from the saved row logsumexp, P = exp(S − lse), never stored whole. With D_i = Σ_d dO·O
// and dS = P ⊙ (dO·Vᵀ − D): dQ = scale·dS·K per chunk (placed into the full dQ), while dK = scale·dSᵀ·Q
// and dV = Pᵀ·dO sum over every chunk and every query head of a kv group, accumulated chunk by chunk
// in one packed [dK | dV] array. The result is [dq | dk | dv], as the CPU kernel packs it.

import { divmod, kernel, type GpuBuf, type KernelGroup } from './common.js';
import type { DeviceArray } from './device_array.js';
import { attnShape, chunkRows, place, SCORE, SCORE_PARAMS, scoreArgs } from './attention.js';
import { CAT2 } from './indexing.js';

/** D_i = Σ_d dout_i·out_i per query row. */
const ROW_D = kernel(
  'attentionRowD',
  `function (dout, out, HS) {
    const base = this.thread.x * HS;
    let s = 0;
    for (let d = 0; d < HS; d++) { s = s + dout[base + d] * out[base + d]; }
    return s;
  }`,
);

/** P = exp(S − lse) for the chunk's scores. */
const PROBS = kernel(
  'attentionProbs',
  `function (${SCORE_PARAMS}, lse) {
    ${SCORE}
    return Math.exp(s - lse[grow]);
  }`,
);

/** dS = P ⊙ (dO·vᵀ − D). */
const DSCORES = kernel(
  'attentionDScores',
  `function (${SCORE_PARAMS}, lse, dout, v, D) {
    ${SCORE}
    const p = Math.exp(s - lse[grow]);
    let dp = 0;
    for (let d2 = 0; d2 < HS; d2++) { dp = dp + dout[qb + d2] * v[kb + d2]; }
    return p * (dp - D[grow]);
  }`,
);

/** The chunk's dQ rows: scale·Σ_j dS[row, j]·k[j]. */
const DQ = kernel(
  'attentionDq',
  `function (dS, k, NH, KVH, Tk, HS, rep, Cq, scale) {
    ${divmod('row', 'd', 'this.thread.x', 'HS')}
    ${divmod('bh', 'ci', 'row', 'Cq')}
    ${divmod('b', 'h', 'bh', 'NH')}
    ${divmod('g', 'hr', 'h', 'rep')}
    const kb = (b * KVH + g) * Tk * HS + d;
    let acc = 0;
    for (let j = 0; j < Tk; j++) { acc = acc + dS[row * Tk + j] * k[kb + j * HS]; }
    return acc * scale;
  }`,
);

/**
 * [dK | dV] += this chunk's part: thread t < n gives dK[b, g, j, d] = scale·Σ_{h in group, i in chunk}
 * dS·q; thread n + t gives dV = Σ P·dO. `first` = 1 starts from zero instead of `prev`.
 */
const DKV = kernel(
  'attentionDkDv',
  `function (prev, dS, P, q, dout, NH, KVH, Tq, Tk, HS, rep, q0, Cq, scale, n, first) {
    const t = this.thread.x;
    let u = t;
    let isV = 0;
    if (t >= n) { u = t - n; isV = 1; }
    ${divmod('row', 'd', 'u', 'HS')}
    ${divmod('bg', 'j', 'row', 'Tk')}
    ${divmod('b', 'g', 'bg', 'KVH')}
    let acc = 0;
    for (let hr = 0; hr < rep; hr++) {
      const h = g * rep + hr;
      for (let ci = 0; ci < Cq; ci++) {
        const srow = (b * NH + h) * Cq + ci;
        const qrow = ((b * NH + h) * Tq + q0 + ci) * HS + d;
        if (isV > 0) { acc = acc + P[srow * Tk + j] * dout[qrow]; } else { acc = acc + dS[srow * Tk + j] * q[qrow] * scale; }
      }
    }
    if (first > 0) { return acc; }
    return prev[t] + acc;
  }`,
);

export const attentionBackwardKernels: KernelGroup = (rt) => ({
  attentionBackward: (inputs, attrs, spec) => {
    const [q, k, v, out, lse, dout] = inputs as [GpuBuf, GpuBuf, GpuBuf, GpuBuf, GpuBuf, GpuBuf];
    const mask = attrs.hasMask ? inputs[6]! : null;
    const s = attnShape(q, k, mask);
    const nq = s.B * s.NH * s.Tq * s.HS;
    const nkv = s.B * s.KVH * s.Tk * s.HS;
    const D = rt.run(ROW_D, s.B * s.NH * s.Tq, [dout.data, out.data, s.HS]);
    const cq = chunkRows(s);
    let dq: DeviceArray | null = null;
    let dkv: DeviceArray | null = null;
    for (let q0 = 0; q0 < s.Tq; q0 += cq) {
      const rows = Math.min(cq, s.Tq - q0);
      const n = s.B * s.NH * rows * s.Tk;
      const scoreIns = [q.data, k.data, mask ? mask.data : rt.empty, ...scoreArgs(s, attrs, q0, rows)];
      const P = rt.run(PROBS, n, [...scoreIns, lse.data]);
      const dS = rt.run(DSCORES, n, [...scoreIns, lse.data, dout.data, v.data, D]);
      const dqChunk = rt.run(DQ, s.B * s.NH * rows * s.HS, [dS, k.data, s.NH, s.KVH, s.Tk, s.HS, s.rep, rows, attrs.scale]);
      const next = rt.run(DKV, 2 * nkv, [
        dkv ?? rt.empty,
        dS,
        P,
        q.data,
        dout.data,
        s.NH,
        s.KVH,
        s.Tq,
        s.Tk,
        s.HS,
        s.rep,
        q0,
        rows,
        attrs.scale,
        nkv,
        dkv ? 0 : 1,
      ]);
      for (const a of [P, dS, ...(dkv ? [dkv] : [])]) rt.memory.dispose(a);
      dkv = next;
      dq = place(rt, dq, dqChunk, s, s.HS, q0, rows);
    }
    rt.memory.dispose(D);
    dq ??= rt.alloc(nq);
    dkv ??= rt.alloc(2 * nkv);
    const packed = rt.run(CAT2, nq + 2 * nkv, [dq, dkv, nq, 2 * nkv]);
    rt.memory.dispose(dq);
    rt.memory.dispose(dkv);
    return { data: packed, shape: spec.shape, dtype: spec.dtype };
  },
});
