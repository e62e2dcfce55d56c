// matmul: the blocked GEMM on square sizes and on a real LLM-jp-4 8B shape (T×4096 · (14336×4096)ᵀ,
// an MLP up-projection in HF's [out, in] layout), on one thread and on all of them, with the
// WebAssembly SIMD kernels and the TypeScript ones side by side, each against the plain triple loop
// (timed once per shape in the same run); and the one-token (decode) matrix-vector shape.

import { noGrad, randn, type Tensor } from '../../core/index.js';
import { matmulReference } from '../../kernels/cpu/matmul.js';
import { simdSupported, type CpuKernels } from '../../kernels/cpu/wasm/runtime.js';
import { gpuMatmulCases } from './gpu.js';
import type { BenchCase, SuiteOptions } from './types.js';

/** The kernel paths to compare: both where WebAssembly SIMD validates. */
const KERNELS: CpuKernels[] = simdSupported ? ['wasm', 'ts'] : ['ts'];

function plainLoop(a: Tensor, b: Tensor, transB: boolean): () => unknown {
  const [M] = a.shape;
  const N = transB ? b.shape[0] : b.shape[1];
  const ins = [a.toBuf(), b.toBuf()] as Parameters<typeof matmulReference>[0];
  return () => matmulReference(ins, { transA: false, transB }, { shape: [M, N], dtype: a.dtype });
}

function product(
  label: string,
  a: Tensor,
  b: Tensor,
  transB: boolean,
  threads: number,
  kernels: CpuKernels | undefined,
  reference: () => unknown,
): BenchCase {
  const [M, K] = a.shape;
  const N = transB ? b.shape[0] : b.shape[1];
  return {
    label: `${label}${kernels ? ` ${kernels}` : ''} ${threads === 1 ? '1 thread' : `${threads} threads`}`,
    run: () => noGrad(() => a.matmul(transB ? b.mT : b)),
    flops: 2 * M * N * K,
    threads,
    kernels,
    reference,
    minSamples: M * N * K >= 512 ** 3 ? 3 : 5,
  };
}

export function matmulCases(opts: SuiteOptions): BenchCase[] {
  if (opts.gpu) return gpuMatmulCases(opts, opts.gpu);
  const { dtype } = opts;
  // Float64 always runs the TypeScript kernels.
  const paths = dtype === 'float32' ? KERNELS : [undefined];
  const sizes = opts.quick ? [48, 96] : [256, 512, 1024, 2048];
  const cases: BenchCase[] = [];
  for (const n of sizes) {
    const a = randn([n, n], { dtype });
    const b = randn([n, n], { dtype });
    const ref = plainLoop(a, b, false);
    for (const threads of [...new Set([1, opts.threads])]) {
      for (const kernels of paths) cases.push(product(`matmul ${n}x${n}x${n}`, a, b, false, threads, kernels, ref));
    }
  }
  const [T, C, I] = opts.quick ? [8, 64, 96] : [64, 4096, 14336];
  const x = randn([T, C], { dtype });
  const w = randn([I, C], { dtype });
  const ref = plainLoop(x, w, true);
  for (const kernels of paths) cases.push(product(`matmul x·wᵀ ${T}x${C}·(${I}x${C})ᵀ`, x, w, true, opts.threads, kernels, ref));
  // Decoding one token: a matrix-vector product that streams the whole weight once (the TypeScript
  // matrix-vector kernel on both paths: fewer rows than the WebAssembly register tile).
  const x1 = x.narrow(0, 0, 1).contiguous();
  cases.push(product(`matmul x·wᵀ 1x${C}·(${I}x${C})ᵀ (decode)`, x1, w, true, opts.threads, undefined, plainLoop(x1, w, true)));
  return cases;
}
