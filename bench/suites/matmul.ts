// matmul through the public API (what a model actually calls): square sizes, the x·wᵀ layout of
// every HF linear layer (w stays [out, in], never copied), and a batched product.

import { noGrad, randn, type Tensor } from '../../core/index.js';
import type { BenchCase, SuiteOptions } from './types.js';

function square(n: number, dtype: SuiteOptions['dtype']): BenchCase {
  const a = randn([n, n], { dtype });
  const b = randn([n, n], { dtype });
  return { label: `matmul ${n}x${n}x${n}`, run: () => noGrad(() => a.matmul(b)), flops: 2 * n ** 3 };
}

function linearLayout(m: number, k: number, n: number, dtype: SuiteOptions['dtype']): BenchCase {
  const x = randn([m, k], { dtype });
  const w = randn([n, k], { dtype });
  return { label: `matmul x·wᵀ ${m}x${k}·(${n}x${k})ᵀ`, run: () => noGrad(() => x.matmul(w.mT)), flops: 2 * m * k * n };
}

function batched(b: number, n: number, dtype: SuiteOptions['dtype']): BenchCase {
  const x: Tensor = randn([b, n, n], { dtype });
  const y: Tensor = randn([b, n, n], { dtype });
  return { label: `matmul batched ${b}x${n}x${n}x${n}`, run: () => noGrad(() => x.matmul(y)), flops: 2 * b * n ** 3 };
}

export function matmulCases(opts: SuiteOptions): BenchCase[] {
  const sizes = opts.quick ? [32, 64] : [64, 128, 256, 512];
  return [
    ...sizes.map((n) => square(n, opts.dtype)),
    linearLayout(opts.quick ? 16 : 128, opts.quick ? 64 : 512, opts.quick ? 64 : 512, opts.dtype),
    batched(opts.quick ? 2 : 8, opts.quick ? 16 : 64, opts.dtype),
  ];
}
