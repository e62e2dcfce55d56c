// The decoder block the layer and GPU benches time: one Llama-style layer, forward + backward, built
// either from the fused ops (RMSNorm, linear with a residual epilogue, RoPE, flash attention, SwiGLU) or
// from their unfused references. Its own file so both suites use it without importing each other.

import {
  attention,
  attentionOp,
  linear,
  randn,
  rmsNorm,
  rope,
  ropeTables,
  swiglu,
  zeros,
  type Tensor,
} from '../../core/index.js';
import { linearOp, RmsNorm, Rope, Swiglu } from '../../core/ops/index.js';
import type { SuiteOptions } from './types.js';

export interface Dims {
  B: number;
  T: number;
  H: number;
  NH: number;
  KVH: number;
  HS: number;
  I: number;
}

export type Params = Record<'ln1' | 'ln2' | 'wq' | 'wk' | 'wv' | 'wo' | 'wg' | 'wu' | 'wd', Tensor>;

export function params(d: Dims, dtype: SuiteOptions['dtype']): Params {
  const w = (o: number, i: number) =>
    randn([o, i], { dtype })
      .mul(i ** -0.5)
      .requiresGrad_();
  const ones = () => zeros([d.H], { dtype }).add(1).requiresGrad_();
  return {
    ln1: ones(),
    ln2: ones(),
    wq: w(d.NH * d.HS, d.H),
    wk: w(d.KVH * d.HS, d.H),
    wv: w(d.KVH * d.HS, d.H),
    wo: w(d.H, d.NH * d.HS),
    wg: w(d.I, d.H),
    wu: w(d.I, d.H),
    wd: w(d.H, d.I),
  };
}

/** The block: x + o(attn(rope(q), rope(k), v)), then + down(silu(gate(h))·up(h)). */
function layer(p: Params, x: Tensor, d: Dims, fused: boolean): Tensor {
  const norm = (t: Tensor, w: Tensor) => (fused ? rmsNorm(t, w, 1e-6) : RmsNorm.reference!({ x: t, w }, { eps: 1e-6 }));
  const lin = (t: Tensor, w: Tensor, r?: Tensor) =>
    fused
      ? linear(t, w, undefined, { residual: r })
      : linearOp(false, r !== undefined).reference!({ x: t, w, r } as never, {
          activation: 'none',
          hasBias: false,
          hasResidual: r !== undefined,
        });
  const { cos, sin } = ropeTables(d.HS, 5e5, { type: 'default' }, { offset: 0, length: d.T }, x.dtype);
  const rot = (t: Tensor) => (fused ? rope(t, cos, sin) : Rope.reference!({ x: t, cos, sin }, { inverse: false }));
  const heads = (t: Tensor, n: number) => t.reshape(d.B, d.T, n, d.HS).transpose(1, 2).contiguous(); // [B, n, T, HS]
  const h = norm(x, p.ln1);
  const q = rot(heads(lin(h, p.wq), d.NH));
  const k = rot(heads(lin(h, p.wk), d.KVH));
  const v = heads(lin(h, p.wv), d.KVH);
  const attrs = { causal: true, scale: d.HS ** -0.5, offset: 0, hasMask: false };
  const a = fused ? attention(q, k, v, { causal: true }) : attentionOp(false).reference!({ q, k, v } as never, attrs);
  const x2 = lin(a.transpose(1, 2).reshape(d.B, d.T, d.NH * d.HS), p.wo, x);
  const h2 = norm(x2, p.ln2);
  const [g, u] = [lin(h2, p.wg), lin(h2, p.wu)];
  return lin(fused ? swiglu(g, u) : Swiglu.reference!({ gate: g, up: u }, {}), p.wd, x2);
}

export function step(p: Params, x: Tensor, dy: Tensor, d: Dims, fused: boolean): void {
  for (const t of Object.values(p)) t.zeroGrad();
  layer(p, x, d, fused).backward(dy);
}
