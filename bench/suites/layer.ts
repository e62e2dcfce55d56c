// One Llama-style decoder layer, forward + backward, built from the fused ops (RMSNorm, linear with
// a residual epilogue, RoPE, flash attention, SwiGLU) against the same layer built from their
// unfused references, with the WebAssembly SIMD kernels and the TypeScript ones. Reports tokens/s.
// (The model classes arrive with the model layer; this is the same block written inline so the
// kernels can be measured together now — the closest thing to a training step until then.)

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
import { simdSupported, type CpuKernels } from '../../kernels/cpu/wasm/runtime.js';
import { gpuLayerCases } from './gpu.js';
import type { BenchCase, SuiteOptions } from './types.js';

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

export function layerCases(opts: SuiteOptions): BenchCase[] {
  if (opts.gpu) return gpuLayerCases(opts, opts.gpu);
  const shapes: [string, Dims][] = opts.quick
    ? [['tiny', { B: 1, T: 16, H: 32, NH: 4, KVH: 1, HS: 8, I: 64 }]]
    : [
        ['tiny (H 256)', { B: 1, T: 512, H: 256, NH: 4, KVH: 1, HS: 64, I: 704 }],
        ['mid (H 1024)', { B: 1, T: 256, H: 1024, NH: 16, KVH: 4, HS: 64, I: 2816 }],
      ];
  // Float64 always runs the TypeScript kernels.
  const paths: (CpuKernels | undefined)[] = opts.dtype === 'float64' ? [undefined] : simdSupported ? ['wasm', 'ts'] : ['ts'];
  return shapes.flatMap(([name, d]) => {
    const p = params(d, opts.dtype);
    const x = randn([d.B, d.T, d.H], { dtype: opts.dtype });
    const dy = randn([d.B, d.T, d.H], { dtype: opts.dtype });
    const weights = d.H * (2 * d.NH * d.HS + 2 * d.KVH * d.HS) + 3 * d.H * d.I;
    // 6 FLOPs per weight per token (forward 2, backward 4) plus causal attention (forward + 2.5× backward).
    const flops = 6 * weights * d.B * d.T + 3.5 * ((d.B * d.NH * 4 * d.T * d.T * d.HS) / 2);
    return paths.map((kernels) => ({
      label: `decoder layer fwd+bwd ${name}${kernels ? ` ${kernels}` : ''} T=${d.T}`,
      run: () => step(p, x, dy, d, true),
      // The unfused layer runs on the same kernels (one reference function per path).
      reference: () => step(p, x, dy, d, false),
      flops,
      tokens: d.B * d.T,
      kernels,
      minSamples: 3,
    }));
  });
}
