// One Llama-style decoder layer, forward + backward, built from the fused ops (RMSNorm, linear with
// a residual epilogue, RoPE, flash attention, SwiGLU) against the same layer built from their
// unfused references, with the WebAssembly SIMD kernels and the TypeScript ones. Reports tokens/s.
// The block itself is in decoder_block.ts.

import { randn } from '../../core/index.js';
import { simdSupported, type CpuKernels } from '../../kernels/cpu/wasm/runtime.js';
import { params, step, type Dims } from './decoder_block.js';
import { gpuLayerCases } from './gpu.js';
import type { BenchCase, SuiteOptions } from './types.js';

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
