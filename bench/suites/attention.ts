// Attention as LLM-jp-4 uses it (causal, GQA 4:1): the flash kernels forward and backward at
// T = 512, 2048, 8192, with the WebAssembly SIMD kernels and the TypeScript ones side by side, against
// the materialised reference (where its T×T scores fit; run with the same kernels), with peak memory.
// FLOPs follow the usual convention: forward 4·T²·HS/2 per head (causal), backward 2.5× that.

import { attention, attentionOp, cpu, noGrad, randn, type Buf, type TypedArray } from '../../core/index.js';
import { simdSupported, type CpuKernels } from '../../kernels/cpu/wasm/runtime.js';
import { gpuAttentionCases } from './gpu.js';
import type { BenchCase, SuiteOptions } from './types.js';

export function attentionCases(opts: SuiteOptions): BenchCase[] {
  if (opts.gpu) return gpuAttentionCases(opts, opts.gpu);
  const shapes: [number, number][] = opts.quick
    ? [[64, 16]]
    : [
        [512, 64],
        [512, 128],
        [2048, 64],
        [2048, 128],
        [8192, 128],
      ];
  // Float64 always runs the TypeScript kernels.
  const paths: (CpuKernels | undefined)[] = opts.dtype === 'float64' ? [undefined] : simdSupported ? ['wasm', 'ts'] : ['ts'];
  const [NH, KVH] = [4, 1];
  const cases: BenchCase[] = [];
  for (const [T, HS] of shapes) {
    const q = randn([1, NH, T, HS], { dtype: opts.dtype });
    const k = randn([1, KVH, T, HS], { dtype: opts.dtype });
    const v = randn([1, KVH, T, HS], { dtype: opts.dtype });
    const attrs = { causal: true, scale: HS ** -0.5, offset: 0, hasMask: false };
    const bufs = [q.toBuf(), k.toBuf(), v.toBuf()] as Buf<TypedArray>[];
    const fwd = cpu.kernels.attention(bufs, attrs, { shape: q.shape, dtype: q.dtype });
    if (!('aux' in fwd)) throw new Error('attention kernel returned no lse');
    const dout = randn(q.shape, { dtype: opts.dtype }).toBuf() as Buf<TypedArray>;
    const backIns = [...bufs, fwd.out, fwd.aux.lse, dout];
    const gradSize = q.numel() + 2 * k.numel();
    const flops = (NH * 4 * T * T * HS) / 2;
    const refFits = T <= 2048;
    const label = `T=${T} HS=${HS} NH=${NH} KVH=${KVH} causal`;
    for (const kernels of paths) {
      const tag = kernels ? ` ${kernels}` : '';
      // One reference function per path: the materialised reference's matmuls use the same kernels.
      const reference = () => noGrad(() => attentionOp(false).reference!({ q, k, v } as never, attrs));
      cases.push({
        label: `attention fwd${tag} ${label}`,
        run: () => noGrad(() => attention(q, k, v, { causal: true })),
        flops,
        tokens: T,
        kernels,
        reference: refFits ? reference : undefined,
        peakMemory: true,
        minSamples: T >= 8192 ? 2 : 5,
      });
      cases.push({
        label: `attention bwd${tag} ${label}`,
        run: () => cpu.kernels.attentionBackward(backIns, attrs, { shape: [gradSize], dtype: q.dtype }),
        flops: 2.5 * flops,
        tokens: T,
        kernels,
        peakMemory: true,
        minSamples: T >= 8192 ? 2 : 5,
      });
      if (refFits && !opts.quick && T === 2048 && HS === 128) {
        cases.push({
          label: `attention fwd reference (materialised)${tag} ${label}`,
          run: reference,
          flops,
          tokens: T,
          kernels,
          peakMemory: true,
          minSamples: 3,
        });
      }
    }
  }
  return cases;
}
